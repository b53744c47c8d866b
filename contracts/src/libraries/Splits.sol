// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Splits
/// @notice The money arithmetic of settlement, in one place so that halmos can prove it never creates or
/// loses a wei (contracts/test/halmos/Proofs.t.sol).
library Splits {
    /// @notice Basis points in one.
    uint256 internal constant BPS = 10_000;

    /// @notice The escrow split on finalize: royalty to the seller, `feeBps` of the payment to the
    /// treasury, the rest to the operator. Callers ensure payment >= royalty + fee.
    function escrow(uint256 payment, uint256 royalty, uint256 feeBps)
        internal
        pure
        returns (uint256 protocolFee, uint256 operatorFee)
    {
        protocolFee = fee(payment, feeBps);
        operatorFee = payment - royalty - protocolFee;
    }

    /// @notice The protocol fee: `feeBps` of the payment, rounded down.
    function fee(uint256 payment, uint256 feeBps) internal pure returns (uint256) {
        return payment * feeBps / BPS;
    }

    /// @notice What the operator is paid when a job settles (JobMarket._settle): the payment less the royalty, the
    /// protocol fee fixed at request time and the audit premium fixed at submission. Callers ensure the payment
    /// covers the three (requestJob checks royalty + fee, IDisputeDesk.scheduleAudit caps the premium at the rest).
    function operatorShare(uint256 payment, uint256 royalty, uint256 protocolFee, uint256 premium)
        internal
        pure
        returns (uint256)
    {
        return payment - royalty - protocolFee - premium;
    }

    /// @notice A pot shared per seat (ReexecutionCommittee's coherent seats): each of `seats` gets `share`, and
    /// the `dust` left by the division goes to one of them. `seats` is never 0.
    function perSeat(uint256 pot, uint256 seats) internal pure returns (uint256 share, uint256 dust) {
        share = pot / seats;
        // Intended: the remainder of the division, so that no wei is lost.
        // slither-disable-next-line divide-before-multiply
        dust = pot - share * seats;
    }

    /// @notice A losing bond: `burnBps` of it burned, the rest kept for the winner.
    function burn(uint256 amount, uint256 burnBps) internal pure returns (uint256 burned, uint256 kept) {
        burned = amount * burnBps / BPS;
        kept = amount - burned;
    }

    /// @notice Ruling 2 on a challenge pool (IDisputeDesk): out of the operator's `slashed` bond, the first
    /// challenger's `arbitrationFee` is refunded as far as the bond covers it, `burnBps` of the rest is burned,
    /// and the remainder is shared equally among `tickets`, the dust to the first challenger (with no ticket, an
    /// audit's pool, all of the remainder is dust: it returns to the audit pool). The four parts sum to `slashed`
    /// exactly.
    function challengePool(uint256 slashed, uint256 arbitrationFee, uint256 burnBps, uint256 tickets)
        internal
        pure
        returns (uint256 refund, uint256 burned, uint256 perTicket, uint256 dust)
    {
        refund = slashed < arbitrationFee ? slashed : arbitrationFee;
        uint256 kept;
        (burned, kept) = burn(slashed - refund, burnBps);
        if (tickets == 0) return (refund, burned, 0, kept);
        perTicket = kept / tickets;
        dust = kept % tickets;
    }
}
