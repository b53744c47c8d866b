//! cairn-protocol against the outside world: the shared EIP-712 vectors (viem and `cast` agree on them) and
//! messages signed by Solidity with `vm.sign`.

mod acceptance_cases;
mod forge_signed;
mod signatures_on_chain;
mod vectors;
