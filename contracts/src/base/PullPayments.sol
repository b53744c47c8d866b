// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICairnCommon} from "../interfaces/ICairnCommon.sol";

/// @title PullPayments
/// @notice Pull balances per (account, token) and exact-amount token intake, shared by every contract
/// that takes or owes money. Payouts happen only in `withdraw`, which is never paused.
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
        uint256 amount = _balances[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        _balances[msg.sender][token] = 0;
        totalCredited[token] -= amount;
        emit Withdrawn(msg.sender, token, amount);
        _send(token, msg.sender, amount);
    }

    /// @inheritdoc ICairnCommon
    function balanceOf(address account, address token) external view returns (uint256) {
        return _balances[account][token];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

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
    /// Recipients are msg.sender withdrawing its own balance, or the constant burn address.
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
