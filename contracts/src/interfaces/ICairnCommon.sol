// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICairnVersioned} from "./ICairnVersioned.sol";

/// @title ICairnCommon
/// @notice Errors and events shared by every Cairn contract that holds funds.
interface ICairnCommon is ICairnVersioned {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice An address argument was zero where an account or contract is required.
    /// @param what Which argument.
    error ZeroAddress(string what);

    /// @notice A token delivered a different amount than was transferred (fee-on-transfer, rebasing):
    /// such tokens are not supported.
    /// @param token The token.
    /// @param amount The amount transferred.
    /// @param received The balance increase actually observed.
    error UnsupportedToken(address token, uint256 amount, uint256 received);

    /// @notice The ETH sent does not equal the price.
    /// @param expected Wei required.
    /// @param sent Wei sent.
    error WrongPayment(uint256 expected, uint256 sent);

    /// @notice ETH was sent with an ERC-20 payment.
    /// @param sent Wei sent.
    error UnexpectedEth(uint256 sent);

    /// @notice The account has no balance of this token to withdraw.
    /// @param account The account whose balance was asked for (the caller, or the operator of `withdrawFor`).
    /// @param token The token (address(0) for ETH).
    error NothingToWithdraw(address account, address token);

    /// @notice Sending ETH to an account failed.
    /// @param to The recipient.
    /// @param amount Wei.
    error EthTransferFailed(address to, uint256 amount);

    /// @notice ETH arrived from someone other than the operator registry.
    /// @param from The sender.
    error UnexpectedSender(address from);

    /// @notice The model's payment token is not the one the buyer named (a new version may switch it).
    /// @param modelId The model.
    /// @param expected The model's token (address(0): ETH).
    /// @param got The token the buyer named.
    error TokenMismatch(uint256 modelId, address expected, address got);

    /// @notice The model's current price is above the most the buyer accepts (a price raised in front of the
    /// buyer's transaction).
    /// @param modelId The model.
    /// @param price The current price, in the model's token units.
    /// @param maxPrice The buyer's bound.
    error PriceAboveMax(uint256 modelId, uint256 price, uint256 maxPrice);

    /// @notice The caller is neither the operator nor the operator's current signer key.
    /// @param operator The operator acted for.
    /// @param caller The caller.
    error NotOperatorOrSigner(address operator, address caller);

    /// @notice A governance parameter is outside its bounds.
    /// @param parameter Its name.
    /// @param value The rejected value.
    /// @param min Lowest allowed.
    /// @param max Highest allowed.
    error ParameterOutOfBounds(string parameter, uint256 value, uint256 min, uint256 max);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A pull balance grew.
    /// @param account Whose balance.
    /// @param token The token (address(0) for ETH).
    /// @param amount Added.
    event Credited(address indexed account, address indexed token, uint256 amount);

    /// @notice An account's pull balance was paid out to it.
    /// @param account Whose balance was paid, and to whom (the caller of `withdraw`, or the operator of
    /// `JobMarket.withdrawFor`).
    /// @param token The token (address(0) for ETH).
    /// @param amount Paid out.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice A governance parameter changed.
    /// @param parameter Its name.
    /// @param oldValue Before.
    /// @param newValue After.
    event ParameterUpdated(string parameter, uint256 oldValue, uint256 newValue);

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Pays out the caller's whole pull balance of `token` (address(0) for ETH). Never paused.
    /// @param token The token.
    function withdraw(address token) external;

    /// @notice The pull balance of `account` in `token`.
    /// @param account The account.
    /// @param token The token (address(0) for ETH).
    /// @return The withdrawable amount.
    function balanceOf(address account, address token) external view returns (uint256);
}
