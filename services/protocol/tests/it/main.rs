//! cairn-protocol against the outside world: the shared EIP-712 vectors (viem and `cast` agree on them) and
//! messages signed by Solidity with `vm.sign`.

mod forge_signed;
mod vectors;
