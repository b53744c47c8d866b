// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICairnCommon} from "../interfaces/ICairnCommon.sol";

/// @title PullPayments
/// @notice Pull balances per (account, token) and exact-amount token intake, shared by every contract
/// that takes or owes money. Payouts happen only in `withdraw` (and JobMarket's `withdrawFor`, to the operator
/// itself), never paused.
abstract contract PullPayments is ICairnCommon, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev account => token => withdrawable amount.
    mapping(address account => mapping(address token => uint256)) private _balances;

    /// @dev token => sum of all pull balances in it (for solvency checks and invariants).
    mapping(address token => uint256) public totalCredited;

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICairnCommon
    function withdraw(address token) external nonReentrant {
        _withdraw(msg.sender, token);
    }

    /// @inheritdoc ICairnCommon
    function balanceOf(address account, address token) external view returns (uint256) {
        return _balances[account][token];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Pays `account`'s whole balance of `token` to `account` itself (never elsewhere); callers are
    /// nonReentrant and have checked who may ask (the account itself, or in JobMarket its operator's signer).
    function _withdraw(address account, address token) internal {
        uint256 amount = _balances[account][token];
        if (amount == 0) revert NothingToWithdraw(account, token);
        _balances[account][token] = 0;
        totalCredited[token] -= amount;
        emit Withdrawn(account, token, amount);
        _send(token, account, amount);
    }

    function _credit(address account, address token, uint256 amount) internal {
        // Skips a zero credit (no event, no storage write). `amount` is an accounting figure computed by the
        // caller (a share, a fee, a refund), never this contract's balance, so nobody can make the test pass
        // or fail by sending ETH.
        // slither-disable-next-line incorrect-equality
        if (amount == 0) return;
        _balances[account][token] += amount;
        totalCredited[token] += amount;
        emit Credited(account, token, amount);
    }

    /// @dev Takes exactly `amount` of `token` from `from`: ETH must equal msg.value; an ERC-20 must raise
    /// our balance by exactly `amount` (fee-on-transfer and similar tokens are refused).
    /// `from` is always msg.sender or a buyer whose EIP-712 signature was just verified, and ETH is only
    /// ever taken from payable entry points (nonpayable ones have msg.value 0 and pass ERC-20 tokens).
    // slither-disable-next-line msg-value-in-nonpayable
    function _receive(address token, address from, uint256 amount) internal {
        if (token == address(0)) {
            if (msg.value != amount) revert WrongPayment(amount, msg.value);
            return;
        }
        if (msg.value != 0) revert UnexpectedEth(msg.value);
        uint256 before = IERC20(token).balanceOf(address(this));
        // slither-disable-next-line arbitrary-send-erc20
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert UnsupportedToken(token, amount, received);
    }

    /// @dev Sends ETH or tokens; callers have already updated all state (checks-effects-interactions).
    /// Recipients are an account withdrawing its own balance (itself, or an operator its signer withdraws
    /// for, paid to the operator's own address), or the constant burn address.
    function _send(address token, address to, uint256 amount) internal {
        if (token == address(0)) {
            // slither-disable-next-line arbitrary-send-eth,low-level-calls
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
