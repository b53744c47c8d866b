//! The L1 data fee an OP Stack L2 charges each transaction on top of its L2 gas, netted from a job's fee
//! before the job is claimed.
//!
//! Since Fjord the `GasPriceOracle` predeploy (`0x420000000000000000000000000000000000000F`, OP Stack
//! specification, "Predeploys" and "Fjord: L1 cost, FastLZ estimator") answers
//! `getL1FeeUpperBound(unsignedTxSize)`: an upper bound, in wei, of the L1 fee of a transaction whose unsigned
//! RLP encoding is `unsignedTxSize` bytes (the oracle adds the signature's 68 bytes and FastLZ's worst case
//! itself). A job costs the hot key three transactions — `claim`, `submitResult` and `finalize` — whose sizes
//! are known before the job is taken: [`job_tx_sizes`] encodes them (the receipt with a full-length CID, the
//! fee fields at generous maxima), so the bound covers what the job will pay at the L1 prices of the moment (the
//! submit and finalize pay later prices). A chain without code at
//! the predeploy (anvil, L1s) charges no L1 fee: [`L1Fees::per_job`] is 0 there and costs no RPC call.

use alloy::{
    consensus::{SignableTransaction, TxEip1559},
    primitives::{Address, B256, Bytes, TxKind, U256, address},
    providers::{DynProvider, Provider},
    sol_types::SolCall,
};
use anyhow::Context as _;
use cairn_bindings::JobMarket;
use cairn_protocol::{JobReceipt, runtime::runner_build};

/// The OP Stack `GasPriceOracle` predeploy, as much as the runner reads (Fjord and later).
#[allow(missing_docs)]
mod oracle {
    alloy::sol! {
        #[sol(rpc)]
        interface IGasPriceOracle {
            /// An upper bound of the L1 fee, wei, of a transaction of `unsignedTxSize` bytes unsigned.
            function getL1FeeUpperBound(uint256 unsignedTxSize) external view returns (uint256);
        }
    }
}
use oracle::IGasPriceOracle;

/// The `GasPriceOracle` predeploy's address on every OP Stack chain.
pub const GAS_PRICE_ORACLE: Address = address!("420000000000000000000000000000000000000F");

/// Unsigned EIP-1559 sizes, bytes, of the three transactions a job costs the hot key (`claim`, `submitResult`,
/// `finalize` of `market` on `chain_id`), each with its real calldata, a receipt CID of 64 characters (a CIDv1
/// in base32 of a sha256 is 59), a 65-byte signature, and nonce and fee fields at maxima no real transaction
/// exceeds (so each size is an upper bound).
pub fn job_tx_sizes(chain_id: u64, market: Address) -> [u64; 3] {
    let job = U256::MAX;
    let receipt = JobReceipt {
        jobId: job,
        weightsDigest: B256::repeat_byte(0xff),
        inputDigest: B256::repeat_byte(0xff),
        runtime: B256::repeat_byte(0xff),
        outputDigest: B256::repeat_byte(0xff),
        outputCid: "b".repeat(64),
        runnerBuild: runner_build(super::runner::RUNNER_VERSION),
        energyMillijoules: u64::MAX,
    };
    let calls: [Vec<u8>; 3] = [
        JobMarket::claimCall { jobId: job, operator: Address::repeat_byte(0xff) }.abi_encode(),
        JobMarket::submitResultCall { jobId: job, receipt, signature: Bytes::from(vec![0xff; 65]) }.abi_encode(),
        JobMarket::finalizeCall { jobId: job }.abi_encode(),
    ];
    calls.map(|input| unsigned_size(chain_id, market, input))
}

/// The unsigned EIP-1559 size, bytes, of `JobMarket.withdrawFor` (the hot key's sweep), fields at maxima as in
/// [`job_tx_sizes`].
pub fn sweep_tx_size(chain_id: u64, market: Address) -> u64 {
    let call = JobMarket::withdrawForCall { operator: Address::repeat_byte(0xff), token: Address::repeat_byte(0xff) };
    unsigned_size(chain_id, market, call.abi_encode())
}

fn unsigned_size(chain_id: u64, market: Address, input: Vec<u8>) -> u64 {
    {
        let tx = TxEip1559 {
            chain_id,
            nonce: u64::from(u32::MAX),
            gas_limit: 30_000_000,
            max_fee_per_gas: u128::from(u64::MAX),
            max_priority_fee_per_gas: u128::from(u64::MAX),
            to: TxKind::Call(market),
            value: U256::ZERO,
            access_list: Default::default(),
            input: input.into(),
        };
        tx.encoded_for_signing().len() as u64
    }
}

/// What a job's transactions pay in L1 data fees on this chain.
#[derive(Debug, Clone)]
pub struct L1Fees {
    oracle: Option<IGasPriceOracle::IGasPriceOracleInstance<DynProvider>>,
    sizes: [u64; 3],
    sweep_size: u64,
}

impl L1Fees {
    /// Looks for the `GasPriceOracle` predeploy on the chain `provider` serves (code at its address), for the
    /// transactions of [`job_tx_sizes`], and asks it once for a bound, so a chain where it cannot answer is
    /// known at start rather than at every job.
    ///
    /// Errors: the code cannot be read; there is code at the predeploy's address but `getL1FeeUpperBound`
    /// fails (an OP Stack chain before its Fjord upgrade, or another contract there): the runner cannot bound
    /// the L1 data fee it would pay, so it does not start.
    pub async fn detect(provider: &DynProvider, chain_id: u64, market: Address) -> anyhow::Result<Self> {
        let code = provider.get_code_at(GAS_PRICE_ORACLE).await.context("looking for the L2's GasPriceOracle")?;
        let sizes = job_tx_sizes(chain_id, market);
        let sweep_size = sweep_tx_size(chain_id, market);
        if code.is_empty() {
            return Ok(Self { oracle: None, sizes, sweep_size });
        }
        let oracle = IGasPriceOracle::new(GAS_PRICE_ORACLE, provider.clone());
        oracle.getL1FeeUpperBound(U256::from(sizes[0])).call().await.with_context(|| {
            format!(
                "chain {chain_id} has code at the GasPriceOracle predeploy {GAS_PRICE_ORACLE}, but it does not answer \
                 getL1FeeUpperBound (OP Stack Fjord and later), so the L1 data fee of a job cannot be bounded: run \
                 the runner against an upgraded chain"
            )
        })?;
        Ok(Self { oracle: Some(oracle), sizes, sweep_size })
    }

    /// Whether the chain charges L1 data fees (an OP Stack L2).
    pub fn charged(&self) -> bool {
        self.oracle.is_some()
    }

    /// An upper bound of the L1 data fees of one job's three transactions, wei (0 where none are charged).
    ///
    /// Errors: the oracle cannot be read (a passing RPC failure).
    pub async fn per_job(&self) -> anyhow::Result<U256> {
        let Some(oracle) = &self.oracle else { return Ok(U256::ZERO) };
        let bound = |size: u64| async move { oracle.getL1FeeUpperBound(U256::from(size)).call().await };
        let (claim, submit, finalize) =
            tokio::try_join!(bound(self.sizes[0]), bound(self.sizes[1]), bound(self.sizes[2]))
                .context("reading the L1 data fee from the GasPriceOracle")?;
        Ok(claim.saturating_add(submit).saturating_add(finalize))
    }

    /// An upper bound of the L1 data fee of one sweep (`withdrawFor`), wei (0 where none is charged).
    ///
    /// Errors: the oracle cannot be read (a passing RPC failure).
    pub async fn per_sweep(&self) -> anyhow::Result<U256> {
        let Some(oracle) = &self.oracle else { return Ok(U256::ZERO) };
        oracle
            .getL1FeeUpperBound(U256::from(self.sweep_size))
            .call()
            .await
            .context("reading the L1 data fee from the GasPriceOracle")
    }
}

#[cfg(test)]
mod tests {
    use alloy::{providers::ProviderBuilder, transports::mock::Asserter};

    use super::*;

    #[test]
    fn the_sizes_grow_with_the_calldata_and_bound_a_real_submission() {
        let market = Address::repeat_byte(1);
        let [claim, submit, finalize] = job_tx_sizes(8453, market);
        // The calldata alone: 4 + 2 words; 4 + the receipt's head and tail + the signature; 4 + 1 word.
        assert!(claim > 4 + 64 && claim < 4 + 64 + 80, "claim {claim}");
        assert!(finalize > 4 + 32 && finalize < claim, "finalize {finalize}");
        assert!(submit > 4 + 32 * 14 + 64 + 65, "submit {submit}");
        // withdrawFor(operator, token): two words, like claim.
        assert_eq!(sweep_tx_size(8453, market), claim, "sweep");
    }

    #[tokio::test]
    async fn an_op_stack_chain_charges_the_sum_of_the_three_bounds_and_other_chains_nothing() {
        let asserter = Asserter::new();
        let provider = ProviderBuilder::new().connect_mocked_client(asserter.clone()).erased();
        asserter.push_success(&Bytes::from_static(&[0x60, 0x80]));
        asserter.push_success(&Bytes::from(U256::from(7u64).to_be_bytes::<32>().to_vec()));
        let fees = L1Fees::detect(&provider, 10, Address::repeat_byte(1)).await.unwrap();
        assert!(fees.charged());
        for wei in [1_000u64, 20_000, 300] {
            asserter.push_success(&Bytes::from(U256::from(wei).to_be_bytes::<32>().to_vec()));
        }
        assert_eq!(fees.per_job().await.unwrap(), U256::from(21_300u64));
        assert!(asserter.read_q().is_empty(), "three calls, one per transaction");
        asserter.push_success(&Bytes::from(U256::from(900u64).to_be_bytes::<32>().to_vec()));
        assert_eq!(fees.per_sweep().await.unwrap(), U256::from(900u64));
        assert!(asserter.read_q().is_empty(), "one call for a sweep");

        asserter.push_success(&Bytes::new());
        let none = L1Fees::detect(&provider, 31337, Address::repeat_byte(1)).await.unwrap();
        assert!(!none.charged());
        assert_eq!(none.per_job().await.unwrap(), U256::ZERO, "no code at the predeploy: no fee, no call");
        assert_eq!(none.per_sweep().await.unwrap(), U256::ZERO);

        // Code there that cannot bound the fee (a chain before Fjord): refused at start, with what to do.
        asserter.push_success(&Bytes::from_static(&[0x60, 0x80]));
        asserter.push_failure_msg("execution reverted");
        let err = L1Fees::detect(&provider, 10, Address::repeat_byte(1)).await.unwrap_err();
        assert!(format!("{err:#}").contains("does not answer getL1FeeUpperBound"), "{err:#}");
    }
}
