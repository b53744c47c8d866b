// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ICairnVersioned
/// @notice Which version of Cairn's contract interfaces (functions, events, typed data) a deployment speaks.
/// A client reads it before anything else and refuses a version it does not speak, instead of failing later
/// on a selector or an event it cannot decode. Version 2: `JobRequest` binds the version and the highest
/// royalty, licences bind token, price and period, operators' signer keys act for them, events carry the
/// receipt and the full terms. Version 3 (disputes v2): juror stake in the JurorPool, challenges through the
/// DisputeDesk's challenge pools, rulings applied by the desk. Version 4: rounds (redraws, appeals, coherence),
/// commitments bound to the round. Version 5: ruling and vote 3, the job's input could not be fetched
/// (`CloseReason.InputUnavailable`, the votes for 3 in `RoundRuled` and `DisputeRuled`), and canaries
/// (`registerCanary`, `revealCanary`). Version 6: `JobMarket.withdrawFor`, an operator's signer key sweeping
/// the operator's earnings to the operator's own address.
interface ICairnVersioned {
    /// @notice The interface version this contract speaks.
    /// @return 6 for this code.
    function interfaceVersion() external pure returns (uint16);
}
