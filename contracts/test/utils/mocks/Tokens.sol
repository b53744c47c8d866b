// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @notice A standard EIP-2612 token with open minting, for tests.
contract MockToken is ERC20Permit {
    uint8 private immutable _decimals;

    constructor(string memory name, uint8 decimals_) ERC20(name, name) ERC20Permit(name) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Takes a 1% fee on every transfer: the receiver gets less than the amount sent.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value / 100;
        super._update(from, address(0xFEE), fee);
        super._update(from, to, value - fee);
    }
}

/// @notice Reverts every transfer (a paused or blacklisting token).
contract RevertingToken is ERC20 {
    constructor() ERC20("Revert", "REV") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0)) revert("RevertingToken: transfers disabled");
        super._update(from, to, value);
    }
}

/// @notice USDT-style: transfer and transferFrom return nothing.
contract NoReturnToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint8 public constant decimals = 6;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }

    function transfer(address to, uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
    }

    function transferFrom(address from, address to, uint256 amount) external {
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @notice ERC-777-style: calls back into a hook target on every transfer, to try reentrancy.
contract HookToken is ERC20 {
    address public hook;
    bytes public hookCall;

    constructor() ERC20("Hook", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setHook(address hook_, bytes calldata call) external {
        hook = hook_;
        hookCall = call;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (hook != address(0) && from != address(0)) {
            (bool ok, bytes memory ret) = hook.call(hookCall);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
    }
}

/// @notice WETH-style: no `permit`, but a fallback that accepts any call, so a `permit` call "succeeds"
/// without doing anything (the phantom-permit hazard). Counts the calls that reached the fallback.
contract PhantomPermitToken is ERC20 {
    uint256 public fallbackCalls;

    constructor() ERC20("Phantom", "PHT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    fallback() external {
        ++fallbackCalls;
    }
}

/// @dev A rebasing token (stETH-style shares): balances are shares × index, so every holder's balance moves when
/// `rebase` sets a new index, with no transfer. At index 1e18 a transfer delivers exactly its amount, so the
/// market's fee-on-transfer check lets it through.
contract RebasingToken {
    string public constant name = "Rebasing";
    string public constant symbol = "REB";
    uint8 public constant decimals = 18;
    uint256 public index = 1e18;
    mapping(address => uint256) public shares;
    mapping(address => mapping(address => uint256)) public allowance;

    function balanceOf(address account) public view returns (uint256) {
        return shares[account] * index / 1e18;
    }

    function rebase(uint256 newIndex) external {
        index = newIndex;
    }

    function mint(address to, uint256 amount) external {
        shares[to] += amount * 1e18 / index;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        allowance[from][msg.sender] -= amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal {
        uint256 moved = amount * 1e18 / index;
        require(shares[from] >= moved, "balance too low");
        shares[from] -= moved;
        shares[to] += moved;
    }
}
