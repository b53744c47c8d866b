//! The runner's crash journal: one SQLite row per job it took, written (and synced) before the step that
//! depends on it, so a restart after `kill -9` knows what it may already have sent and resumes without
//! claiming or submitting twice (issue #15, "Crash safety").
//!
//! A job moves through [`Step`]s in this order (a restart reads its row to know which chain write may already
//! have gone out):
//! `claiming` (a claim may have been sent) → `claimed` → `computed` (the output file is written, its digest
//! and energy recorded) → `pinned` (output CID known, input and output pinned) → `submitting` (a receipt may
//! have been sent) → `submitted` → `finalized`; or off the path: `lost` (another operator has it, or the
//! claim was refused), `expired` (past the submit deadline), `disputed` (waiting for the ruling) and `closed`
//! (ruled or cancelled, pins released).
//!
//! Verifier mode keeps one row per dispute where the operator holds seats ([`DutyStep`]): `drawn` → `voted`
//! (vote and salt written before the commitment is sent, so a restart reveals what it committed) → `committed`
//! → `revealed` → `done`, or `missed` when a deadline passed first.
//!
//! Watcher mode keeps one row per job it challenges ([`ChallengeStep`]): `challenging` (the evidence is pinned
//! and its URI written before the challenge is sent) → `challenged` (the ticket is on chain; the evidence's URI
//! not yet) → `evidenced` (the URI is on chain; the ticket waits for the ruling) → `settled` (collected, or the
//! challenge never landed), so a restart submits the evidence of a challenge it sent and collects every ticket.
//!
//! The relay keeps one row per input it pinned for a browser (`relay_pins`), with when the pin expires (chain
//! seconds): `[relay] input_ttl_secs` after the upload, extended to the claim deadline of every job requested
//! with it; an expired pin is released once no open journaled job runs on its input.

use std::{path::Path, str::FromStr, time::Duration};

use alloy::primitives::{B256, U256};
use anyhow::Context as _;
use cairn_primitives::Sha256Digest;
use sqlx::{
    Row,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};

/// Where a job stands, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// A claim is about to be sent (or was, and the process died before its receipt).
    Claiming,
    /// Ours on chain.
    Claimed,
    /// The output is written to disk.
    Computed,
    /// The output (and the input) are pinned on Kubo.
    Pinned,
    /// The receipt is about to be sent (or was).
    Submitting,
    /// The receipt is on chain; waiting out the challenge window.
    Submitted,
    /// Finalized and unpinned.
    Finalized,
    /// Not ours: another operator claimed it first, or the claim was refused.
    Lost,
    /// Our claim passed its submit deadline before the receipt landed.
    Expired,
    /// Challenged: output and input stay pinned until the ruling.
    Disputed,
    /// Ruled, reopened or cancelled after we held it; pins released.
    Closed,
}

impl Step {
    const ALL: [Step; 11] = [
        Self::Claiming,
        Self::Claimed,
        Self::Computed,
        Self::Pinned,
        Self::Submitting,
        Self::Submitted,
        Self::Finalized,
        Self::Lost,
        Self::Expired,
        Self::Disputed,
        Self::Closed,
    ];

    /// The name stored in the journal (also the `CAIRN_RUNNER_CRASH_AFTER` names of the tests).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claiming => "claiming",
            Self::Claimed => "claimed",
            Self::Computed => "computed",
            Self::Pinned => "pinned",
            Self::Submitting => "submitting",
            Self::Submitted => "submitted",
            Self::Finalized => "finalized",
            Self::Lost => "lost",
            Self::Expired => "expired",
            Self::Disputed => "disputed",
            Self::Closed => "closed",
        }
    }

    /// Whether nothing remains to do for the job.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finalized | Self::Lost | Self::Expired | Self::Closed)
    }
}

impl FromStr for Step {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|step| step.as_str() == s).ok_or_else(|| format!("unknown journal step `{s}`"))
    }
}

/// One job's journal row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The job.
    pub job: U256,
    /// Where it stands.
    pub step: Step,
    /// The input's CID (pinned with the output).
    pub input_cid: String,
    /// sha256 of the output, once computed.
    pub output_digest: Option<Sha256Digest>,
    /// The output's CID, once pinned.
    pub output_cid: Option<String>,
    /// Whether the runner pinned the input itself (so it unpins it when done); false when the input was
    /// already pinned on this node by someone else (a buyer's pin is never removed).
    pub input_pinned: bool,
    /// The energy figure, millijoules, once computed.
    pub energy_mj: Option<u64>,
    /// The challenge window's end (chain seconds), once submitted.
    pub challenge_ends: Option<u64>,
}

/// Where a verifier's duty in a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DutyStep {
    /// Seats drawn for the operator; nothing sent yet.
    Drawn,
    /// Vote and salt journaled; the commitment may or may not have been sent.
    Voted,
    /// The commitment is on chain.
    Committed,
    /// The vote is revealed; the dispute awaits its resolution.
    Revealed,
    /// Resolved (by us or anyone).
    Done,
    /// A deadline passed before we could act (logged with why).
    Missed,
}

impl DutyStep {
    /// The journal's name of the step.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drawn => "drawn",
            Self::Voted => "voted",
            Self::Committed => "committed",
            Self::Revealed => "revealed",
            Self::Done => "done",
            Self::Missed => "missed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Drawn, Self::Voted, Self::Committed, Self::Revealed, Self::Done, Self::Missed]
            .into_iter()
            .find(|step| step.as_str() == s)
    }
}

/// A round of a dispute where the operator holds seats, as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Duty {
    /// The committee's dispute id.
    pub dispute: U256,
    /// The round (0, then one per appeal): each round is a new vote with a commitment bound to it.
    pub round: u8,
    /// Where it stands.
    pub step: DutyStep,
    /// The vote (1 acceptable, 2 not acceptable), once decided.
    pub vote: Option<u8>,
    /// The commitment's salt, once decided.
    pub salt: Option<B256>,
    /// Why (the rule's report, or what was missed).
    pub note: Option<String>,
}

/// Where a watcher's challenge of a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeStep {
    /// The evidence is pinned; the challenge may or may not have been sent.
    Challenging,
    /// The ticket is on chain; the evidence's URI is not yet.
    Challenged,
    /// The evidence's URI is on chain too; the ticket waits for the ruling.
    Evidenced,
    /// Collected after the ruling, or the challenge never landed: nothing left to do.
    Settled,
}

impl ChallengeStep {
    /// The journal's name of the step.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Challenging => "challenging",
            Self::Challenged => "challenged",
            Self::Evidenced => "evidenced",
            Self::Settled => "settled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Challenging, Self::Challenged, Self::Evidenced, Self::Settled]
            .into_iter()
            .find(|step| step.as_str() == s)
    }
}

/// A watcher's challenge, as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The challenged job.
    pub job: U256,
    /// Where it stands.
    pub step: ChallengeStep,
    /// The ERC-1497 evidence's URI (`ipfs://<CID>`), `None` for a ticket found on chain that this journal did not
    /// see sent (its evidence is unknown here).
    pub evidence_uri: Option<String>,
}

/// The journal.
#[derive(Debug, Clone)]
pub struct Journal {
    pool: SqlitePool,
}

impl Journal {
    /// The journal's file in the state folder `dir`: `<dir>/journal.sqlite`.
    pub fn file(dir: &Path) -> std::path::PathBuf {
        dir.join("journal.sqlite")
    }

    /// Opens (creating) `<dir>/journal.sqlite`. Every write is synced to disk before it returns (WAL,
    /// `synchronous = FULL`).
    ///
    /// Errors: the folder or the database cannot be created or read.
    pub async fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the state folder {}", dir.display()))?;
        let path = Self::file(dir);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        for statement in [
            "CREATE TABLE IF NOT EXISTS jobs (
                job_id TEXT PRIMARY KEY,
                step TEXT NOT NULL,
                input_cid TEXT NOT NULL,
                output_digest TEXT,
                output_cid TEXT,
                input_pinned INTEGER NOT NULL DEFAULT 0,
                energy_mj INTEGER,
                challenge_ends INTEGER,
                updated_at INTEGER NOT NULL DEFAULT (unixepoch())
            )",
            "CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), block INTEGER NOT NULL)",
            // Verifier mode: a round of a dispute where the operator holds seats. The vote and its salt are
            // written before the commitment is sent, so a restart reveals what was committed.
            "CREATE TABLE IF NOT EXISTS juror_duties (
                dispute_id TEXT NOT NULL,
                round INTEGER NOT NULL,
                step TEXT NOT NULL,
                vote INTEGER,
                salt TEXT,
                note TEXT,
                updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
                commit_deadline INTEGER,
                PRIMARY KEY (dispute_id, round)
            )",
            // The relay: inputs it pinned for browsers, until when (chain seconds).
            "CREATE TABLE IF NOT EXISTS relay_pins (
                cid TEXT PRIMARY KEY,
                expires_at INTEGER NOT NULL,
                pinned_at INTEGER NOT NULL DEFAULT (unixepoch())
            )",
            // Watcher mode: a job this runner challenged, from the evidence pinned to the ticket collected.
            "CREATE TABLE IF NOT EXISTS challenges (
                job_id TEXT PRIMARY KEY,
                step TEXT NOT NULL,
                evidence_uri TEXT,
                note TEXT,
                updated_at INTEGER NOT NULL DEFAULT (unixepoch())
            )",
            // Canaries (`[canary]`): one row per canary job, its answer, salt and fresh keys written before any
            // of them is used on chain; and the next block whose `DisputeOpened` logs get a registration.
            "CREATE TABLE IF NOT EXISTS canaries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                step TEXT NOT NULL,
                answer INTEGER NOT NULL,
                salt TEXT NOT NULL,
                buyer_key TEXT NOT NULL,
                challenger_key TEXT NOT NULL,
                input TEXT NOT NULL,
                from_block INTEGER NOT NULL,
                job_id TEXT,
                dispute_id TEXT,
                note TEXT,
                planned_at INTEGER NOT NULL DEFAULT (unixepoch()),
                updated_at INTEGER NOT NULL DEFAULT (unixepoch())
            )",
            "CREATE TABLE IF NOT EXISTS canary_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), block INTEGER NOT NULL)",
            // The keeper: disputes deferred for want of seats (`DrawDeferred`, whoever drew), retried (and expired
            // at their end) until they move on, across restarts.
            "CREATE TABLE IF NOT EXISTS waiting_disputes (
                dispute_id TEXT PRIMARY KEY,
                deferred_at INTEGER NOT NULL DEFAULT (unixepoch())
            )",
        ] {
            sqlx::query(statement).execute(&pool).await.context("creating the journal's tables")?;
        }
        // A journal from before redraws were told apart has no `commit_deadline`: added (NULL for its rows).
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('juror_duties')")
            .fetch_all(&pool)
            .await
            .context("reading the journal's columns")?;
        if !columns.iter().any(|c| c == "commit_deadline") {
            sqlx::query("ALTER TABLE juror_duties ADD COLUMN commit_deadline INTEGER")
                .execute(&pool)
                .await
                .context("adding the duties' commit deadline")?;
        }
        // A journal written before disputes had rounds kept one duty per dispute (`duties`): its rows are round 0.
        let old: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'duties'")
                .fetch_optional(&pool)
                .await
                .context("reading the journal's tables")?;
        if old.is_some() {
            let mut tx = pool.begin().await.context("migrating the journal's duties")?;
            sqlx::query(
                "INSERT OR IGNORE INTO juror_duties (dispute_id, round, step, vote, salt, note, updated_at) \
                 SELECT dispute_id, 0, step, vote, salt, note, updated_at FROM duties",
            )
            .execute(&mut *tx)
            .await
            .context("migrating the journal's duties")?;
            sqlx::query("DROP TABLE duties").execute(&mut *tx).await.context("migrating the journal's duties")?;
            tx.commit().await.context("migrating the journal's duties")?;
        }
        Ok(Self { pool })
    }

    /// Records a new job at `step`. A job already journaled keeps its row (a claim is never journaled twice),
    /// unless it was `lost` or `expired`: a job another operator released or let lapse starts afresh.
    ///
    /// Errors: the database cannot be written.
    pub async fn insert(&self, job: U256, step: Step, input_cid: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO jobs (job_id, step, input_cid) VALUES (?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET \
             step = excluded.step, input_cid = excluded.input_cid, output_digest = NULL, output_cid = NULL, \
             input_pinned = 0, energy_mj = NULL, challenge_ends = NULL, updated_at = unixepoch() \
             WHERE jobs.step IN ('lost', 'expired')",
        )
        .bind(job.to_string())
        .bind(step.as_str())
        .bind(input_cid)
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling job {job}"))?;
        Ok(())
    }

    /// Moves `job` to `step`.
    ///
    /// Errors: the database cannot be written.
    pub async fn set_step(&self, job: U256, step: Step) -> anyhow::Result<()> {
        sqlx::query("UPDATE jobs SET step = ?, updated_at = unixepoch() WHERE job_id = ?")
            .bind(step.as_str())
            .bind(job.to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("journaling job {job} as {}", step.as_str()))?;
        Ok(())
    }

    /// Records the computed output and moves `job` to [`Step::Computed`].
    ///
    /// Errors: the database cannot be written.
    pub async fn computed(&self, job: U256, digest: Sha256Digest, energy_mj: u64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE jobs SET step = ?, output_digest = ?, energy_mj = ?, updated_at = unixepoch() WHERE job_id = ?",
        )
        .bind(Step::Computed.as_str())
        .bind(digest.to_string())
        .bind(sql_integer(energy_mj))
        .bind(job.to_string())
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling job {job}'s output"))?;
        Ok(())
    }

    /// Records the output's CID (and whether the runner pinned the input itself) and moves `job` to
    /// [`Step::Pinned`].
    ///
    /// Errors: the database cannot be written.
    pub async fn pinned(&self, job: U256, output_cid: &str, input_pinned: bool) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE jobs SET step = ?, output_cid = ?, input_pinned = ?, updated_at = unixepoch() WHERE job_id = ?",
        )
        .bind(Step::Pinned.as_str())
        .bind(output_cid)
        .bind(input_pinned)
        .bind(job.to_string())
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling job {job}'s output CID"))?;
        Ok(())
    }

    /// Deletes `job`'s row: only for a claim that never landed (the job is still open on chain), so the job
    /// can be considered again.
    ///
    /// Errors: the database cannot be written.
    pub async fn forget(&self, job: U256) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM jobs WHERE job_id = ?")
            .bind(job.to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("removing job {job} from the journal"))?;
        Ok(())
    }

    /// Records the challenge window's end and moves `job` to [`Step::Submitted`].
    ///
    /// Errors: the database cannot be written.
    pub async fn submitted(&self, job: U256, challenge_ends: u64) -> anyhow::Result<()> {
        sqlx::query("UPDATE jobs SET step = ?, challenge_ends = ?, updated_at = unixepoch() WHERE job_id = ?")
            .bind(Step::Submitted.as_str())
            .bind(sql_integer(challenge_ends))
            .bind(job.to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("journaling job {job} as submitted"))?;
        Ok(())
    }

    /// `job`'s row, if journaled.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn get(&self, job: U256) -> anyhow::Result<Option<Entry>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE job_id = ?")
            .bind(job.to_string())
            .fetch_optional(&self.pool)
            .await
            .context("reading the journal")?;
        row.map(|r| entry(&r)).transpose()
    }

    /// Every job with something left to do, oldest first.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn open_jobs(&self) -> anyhow::Result<Vec<Entry>> {
        // The terminal steps come from `Step::is_terminal`, the one list of them.
        let terminal: Vec<String> =
            Step::ALL.into_iter().filter(|s| s.is_terminal()).map(|s| format!("'{}'", s.as_str())).collect();
        let query =
            format!("SELECT * FROM jobs WHERE step NOT IN ({}) ORDER BY CAST(job_id AS INTEGER)", terminal.join(", "));
        let rows = sqlx::query(&query).fetch_all(&self.pool).await.context("reading the journal")?;
        rows.iter().map(entry).collect()
    }

    /// Every job, oldest first (for `status` and tests).
    ///
    /// Errors: the database cannot be read.
    pub async fn all(&self) -> anyhow::Result<Vec<Entry>> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY CAST(job_id AS INTEGER)")
            .fetch_all(&self.pool)
            .await
            .context("reading the journal")?;
        rows.iter().map(entry).collect()
    }

    /// Records a round of a dispute where the operator was drawn (step `drawn`), by the draw's commit deadline
    /// (seconds; `JurorsDrawn.commitDeadline`, which tells a redraw from the same draw seen again after a
    /// restart). A round already recorded keeps its row, unless it was `missed`, or a redraw (another commit
    /// deadline) seats the operator again before it revealed: the committee cleared the silent seat's commitment,
    /// so the new seat needs a new vote. A revealed vote counts on the new seat by itself.
    ///
    /// Errors: the database cannot be written.
    pub async fn add_duty(&self, dispute: U256, round: u8, commit_deadline: u64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO juror_duties (dispute_id, round, step, commit_deadline) VALUES (?, ?, 'drawn', ?) \
             ON CONFLICT (dispute_id, round) DO UPDATE SET step = 'drawn', vote = NULL, salt = NULL, \
             note = 'drawn again', commit_deadline = excluded.commit_deadline, updated_at = unixepoch() \
             WHERE juror_duties.step = 'missed' OR (juror_duties.step IN ('drawn', 'voted', 'committed') \
             AND juror_duties.commit_deadline IS NOT NULL \
             AND juror_duties.commit_deadline != excluded.commit_deadline)",
        )
        .bind(dispute.to_string())
        .bind(i64::from(round))
        .bind(i64::try_from(commit_deadline).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling dispute {dispute} round {round}"))?;
        Ok(())
    }

    /// Records the vote (1 acceptable, 2 not) and its salt before the commitment is sent (step `voted`).
    ///
    /// Errors: the database cannot be written.
    pub async fn voted(&self, dispute: U256, round: u8, vote: u8, salt: B256, note: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE juror_duties SET step = 'voted', vote = ?, salt = ?, note = ?, updated_at = unixepoch() \
             WHERE dispute_id = ? AND round = ?",
        )
        .bind(i64::from(vote))
        .bind(salt.to_string())
        .bind(note)
        .bind(dispute.to_string())
        .bind(i64::from(round))
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling the vote of dispute {dispute} round {round}"))?;
        Ok(())
    }

    /// Moves a duty to `step` (`committed`, `revealed`, `done`, `missed`), with a note.
    ///
    /// Errors: the database cannot be written.
    pub async fn set_duty(&self, dispute: U256, round: u8, step: DutyStep, note: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE juror_duties SET step = ?, note = ?, updated_at = unixepoch() WHERE dispute_id = ? AND round = ?",
        )
        .bind(step.as_str())
        .bind(note)
        .bind(dispute.to_string())
        .bind(i64::from(round))
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling dispute {dispute} round {round} as {}", step.as_str()))?;
        Ok(())
    }

    /// Every duty not `done` or `missed`, oldest dispute (then round) first.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn open_duties(&self) -> anyhow::Result<Vec<Duty>> {
        self.duties("WHERE step NOT IN ('done', 'missed')").await
    }

    /// Every duty, oldest dispute first (for `status` and tests).
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn all_duties(&self) -> anyhow::Result<Vec<Duty>> {
        self.duties("").await
    }

    async fn duties(&self, filter: &str) -> anyhow::Result<Vec<Duty>> {
        let query = format!("SELECT * FROM juror_duties {filter} ORDER BY CAST(dispute_id AS INTEGER), round");
        let rows = sqlx::query(&query).fetch_all(&self.pool).await.context("reading the journal's duties")?;
        rows.iter()
            .map(|r| {
                let dispute: String = r.try_get("dispute_id")?;
                let round: i64 = r.try_get("round")?;
                let step: String = r.try_get("step")?;
                let vote: Option<i64> = r.try_get("vote")?;
                let salt: Option<String> = r.try_get("salt")?;
                Ok(Duty {
                    dispute: dispute.parse().with_context(|| format!("journal: dispute id {dispute:?}"))?,
                    round: u8::try_from(round).context("journal: round")?,
                    step: DutyStep::parse(&step).with_context(|| format!("journal: duty step {step:?}"))?,
                    vote: vote.map(|v| u8::try_from(v).context("journal: vote")).transpose()?,
                    salt: salt.map(|s| s.parse().context("journal: salt")).transpose()?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }

    /// Records that the evidence at `evidence_uri` is pinned and the challenge of `job` is about to be sent
    /// (step `challenging`). A challenge already past that step keeps its row (a ruled pool takes no new
    /// challenge, so a settled row stays settled).
    ///
    /// Errors: the database cannot be written.
    pub async fn challenging(&self, job: U256, evidence_uri: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO challenges (job_id, step, evidence_uri) VALUES (?, 'challenging', ?) \
             ON CONFLICT (job_id) DO UPDATE SET evidence_uri = excluded.evidence_uri, updated_at = unixepoch() \
             WHERE challenges.step = 'challenging'",
        )
        .bind(job.to_string())
        .bind(evidence_uri)
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling the challenge of job {job}"))?;
        Ok(())
    }

    /// Records that this runner's ticket in `job`'s challenge pool is on chain: a `challenging` row moves to
    /// `challenged` (its evidence goes next), a job without a row gets one (a ticket this journal did not see
    /// sent, whose evidence it cannot know); a row further on is kept, a `settled` one included (a restart that
    /// finds the collected ticket again sends nothing more).
    ///
    /// Errors: the database cannot be written.
    pub async fn ticket_held(&self, job: U256) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO challenges (job_id, step) VALUES (?, 'challenged') \
             ON CONFLICT (job_id) DO UPDATE SET step = 'challenged', updated_at = unixepoch() \
             WHERE challenges.step = 'challenging'",
        )
        .bind(job.to_string())
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling the ticket of job {job}"))?;
        Ok(())
    }

    /// Moves `job`'s challenge to `step` (`evidenced`, `settled`), with a note.
    ///
    /// Errors: the database cannot be written.
    pub async fn set_challenge(&self, job: U256, step: ChallengeStep, note: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE challenges SET step = ?, note = ?, updated_at = unixepoch() WHERE job_id = ?")
            .bind(step.as_str())
            .bind(note)
            .bind(job.to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("journaling the challenge of job {job} as {}", step.as_str()))?;
        Ok(())
    }

    /// `job`'s challenge, if journaled.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn challenge(&self, job: U256) -> anyhow::Result<Option<Challenge>> {
        Ok(self.challenges("WHERE job_id = ?", Some(job)).await?.pop())
    }

    /// Every challenge not `settled`, oldest job first.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn open_challenges(&self) -> anyhow::Result<Vec<Challenge>> {
        self.challenges("WHERE step != 'settled'", None).await
    }

    /// Every challenge (for `status` and tests), oldest job first.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn all_challenges(&self) -> anyhow::Result<Vec<Challenge>> {
        self.challenges("", None).await
    }

    /// The rows `filter` selects (a constant clause; `job`, if any, bound to its one `?`).
    async fn challenges(&self, filter: &str, job: Option<U256>) -> anyhow::Result<Vec<Challenge>> {
        let query =
            format!("SELECT job_id, step, evidence_uri FROM challenges {filter} ORDER BY CAST(job_id AS INTEGER)");
        let mut select = sqlx::query(&query);
        if let Some(job) = job {
            select = select.bind(job.to_string());
        }
        let rows = select.fetch_all(&self.pool).await.context("reading the journal's challenges")?;
        rows.iter()
            .map(|r| {
                let job: String = r.try_get("job_id")?;
                let step: String = r.try_get("step")?;
                Ok(Challenge {
                    job: job.parse().with_context(|| format!("journal: challenged job id {job:?}"))?,
                    step: ChallengeStep::parse(&step).with_context(|| format!("journal: challenge step {step:?}"))?,
                    evidence_uri: r.try_get("evidence_uri")?,
                })
            })
            .collect()
    }

    /// Records that the relay pinned `cid`, to be released at chain second `expires_at` (a later expiry already
    /// recorded is kept).
    ///
    /// Errors: the database cannot be written.
    pub async fn relay_pinned(&self, cid: &str, expires_at: u64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO relay_pins (cid, expires_at) VALUES (?, ?) \
             ON CONFLICT (cid) DO UPDATE SET expires_at = MAX(relay_pins.expires_at, excluded.expires_at)",
        )
        .bind(cid)
        .bind(sql_integer(expires_at))
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling the relay's pin of {cid}"))?;
        Ok(())
    }

    /// Keeps the relay's pin of `cid`, if there is one, at least until chain second `until` (a job requested with
    /// it is claimable until then). Returns whether the relay holds such a pin.
    ///
    /// Errors: the database cannot be written.
    pub async fn extend_relay_pin(&self, cid: &str, until: u64) -> anyhow::Result<bool> {
        let done = sqlx::query("UPDATE relay_pins SET expires_at = MAX(expires_at, ?) WHERE cid = ?")
            .bind(sql_integer(until))
            .bind(cid)
            .execute(&self.pool)
            .await
            .with_context(|| format!("extending the relay's pin of {cid}"))?;
        Ok(done.rows_affected() > 0)
    }

    /// The relay's pins, `(CID, expiry in chain seconds)`, soonest expiry first.
    ///
    /// Errors: the database cannot be read.
    pub async fn relay_pins(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT cid, expires_at FROM relay_pins ORDER BY expires_at, cid")
                .fetch_all(&self.pool)
                .await
                .context("reading the relay's pins")?;
        Ok(rows.into_iter().map(|(cid, at)| (cid, at as u64)).collect())
    }

    /// Forgets the relay's pin of `cid` if it expired by chain second `now` and no open journaled job runs on
    /// it; returns whether it did (then the caller unpins it). A pin extended meanwhile is kept.
    ///
    /// Errors: the database cannot be written.
    pub async fn forget_expired_relay_pin(&self, cid: &str, now: u64) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "DELETE FROM relay_pins WHERE cid = ? AND expires_at <= ? AND NOT EXISTS \
             (SELECT 1 FROM jobs WHERE input_cid = relay_pins.cid \
              AND step NOT IN ('finalized', 'lost', 'expired', 'closed'))",
        )
        .bind(cid)
        .bind(sql_integer(now))
        .execute(&self.pool)
        .await
        .with_context(|| format!("forgetting the relay's pin of {cid}"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether any journaled job, open or closed, pinned input `cid` itself (`input_pinned`): the pin is this
    /// runner's to remove once no open job and no relay pin needs it.
    ///
    /// Errors: the database cannot be read.
    pub async fn input_pinned_by_us(&self, cid: &str) -> anyhow::Result<bool> {
        let pinned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE input_cid = ? AND input_pinned = 1")
            .bind(cid)
            .fetch_one(&self.pool)
            .await
            .with_context(|| format!("reading who pinned {cid}"))?;
        Ok(pinned > 0)
    }

    /// The next block to scan for new jobs, if a scan has run.
    ///
    /// Errors: the database cannot be read.
    pub async fn cursor(&self) -> anyhow::Result<Option<u64>> {
        self.read_block("cursor").await
    }

    /// Records that every block below `next` has been scanned.
    ///
    /// Errors: the database cannot be written.
    pub async fn set_cursor(&self, next: u64) -> anyhow::Result<()> {
        self.write_block("cursor", next).await
    }

    /// The block held by the one-row table `table` (`cursor` or `canary_cursor`), if written.
    async fn read_block(&self, table: &'static str) -> anyhow::Result<Option<u64>> {
        let block: Option<i64> = sqlx::query_scalar(&format!("SELECT block FROM {table} WHERE id = 1"))
            .fetch_optional(&self.pool)
            .await
            .with_context(|| format!("reading the journal's {table}"))?;
        Ok(block.map(|b| b as u64))
    }

    /// Writes `next` into the one-row table `table`.
    async fn write_block(&self, table: &'static str, next: u64) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "INSERT INTO {table} (id, block) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET block = excluded.block"
        ))
        .bind(sql_integer(next))
        .execute(&self.pool)
        .await
        .with_context(|| format!("writing the journal's {table}"))?;
        Ok(())
    }
}

/// Where a canary stands (`service::canary`), in order: `planned` (answer, salt and fresh keys written) →
/// `requesting` (the fresh keys funded; the request may have been sent) → `requested` (the job id known; this
/// operator serves it) → `challenging` (submitted; the challenge may have been sent) → `challenged` (the dispute
/// id known) → `registered` (the answer's commitment is on chain) → `revealed` → `done` (ruled, the challenger's
/// ticket collected, the fresh keys' refunds withdrawn); or `unwinding` (no longer a canary: another operator
/// claimed the job, nobody claimed it, another challenger opened the pool first, the registration came after the
/// seed block, a redraw or an appeal; what the fresh keys are owed is collected once the job is final) → `void`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanaryStep {
    /// Answer, salt and keys written; nothing sent.
    Planned,
    /// Funded; the request may have been sent.
    Requesting,
    /// The job is on chain.
    Requested,
    /// Submitted; the challenge may have been sent.
    Challenging,
    /// The dispute is open.
    Challenged,
    /// The commitment is registered.
    Registered,
    /// The answer is revealed.
    Revealed,
    /// Ruled and collected.
    Done,
    /// Not a canary any more; the fresh keys' money is collected once the job is final.
    Unwinding,
    /// Not a canary any more, and nothing left to collect.
    Void,
}

impl CanaryStep {
    const ALL: [Self; 10] = [
        Self::Planned,
        Self::Requesting,
        Self::Requested,
        Self::Challenging,
        Self::Challenged,
        Self::Registered,
        Self::Revealed,
        Self::Done,
        Self::Unwinding,
        Self::Void,
    ];

    /// The journal's name of the step.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Requesting => "requesting",
            Self::Requested => "requested",
            Self::Challenging => "challenging",
            Self::Challenged => "challenged",
            Self::Registered => "registered",
            Self::Revealed => "revealed",
            Self::Done => "done",
            Self::Unwinding => "unwinding",
            Self::Void => "void",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == s)
    }
}

/// A canary, as journaled.
#[derive(Debug, Clone)]
pub struct Canary {
    /// Its row.
    pub id: i64,
    /// Where it stands.
    pub step: CanaryStep,
    /// The known answer: 1 acceptable, 2 not acceptable.
    pub answer: u8,
    /// The commitment's salt.
    pub salt: B256,
    /// The fresh buyer's private key.
    pub buyer_key: B256,
    /// The fresh challenger's private key.
    pub challenger_key: B256,
    /// The input file used.
    pub input: String,
    /// The chain head when it was planned (where a lost request's log is looked for).
    pub from_block: u64,
    /// The job, once requested.
    pub job: Option<U256>,
    /// The dispute, once challenged.
    pub dispute: Option<U256>,
    /// Why it moved last.
    pub note: Option<String>,
}

impl Journal {
    /// Records a planned canary (step `planned`); returns its row.
    ///
    /// Errors: the database cannot be written.
    pub async fn plan_canary(&self, c: &Canary) -> anyhow::Result<i64> {
        let id = sqlx::query(
            "INSERT INTO canaries (step, answer, salt, buyer_key, challenger_key, input, from_block)              VALUES ('planned', ?, ?, ?, ?, ?, ?)",
        )
        .bind(i64::from(c.answer))
        .bind(c.salt.to_string())
        .bind(c.buyer_key.to_string())
        .bind(c.challenger_key.to_string())
        .bind(&c.input)
        .bind(sql_integer(c.from_block))
        .execute(&self.pool)
        .await
        .context("journaling a canary")?
        .last_insert_rowid();
        Ok(id)
    }

    /// Moves canary `id` to `step`, setting its job or dispute when given, with a note; returns whether it moved.
    ///
    /// Steps only move forward out of what is final for them, whoever writes (the canary's own poll and the job's
    /// task run apart and may each hold an older read): a canary `done` or `void` never moves again, and one
    /// `unwinding` only to `void`. So an unwinding decided while the poll was carrying the canary on cannot be
    /// overwritten by that poll's next step.
    ///
    /// Errors: the database cannot be written.
    pub async fn set_canary(
        &self,
        id: i64,
        step: CanaryStep,
        job: Option<U256>,
        dispute: Option<U256>,
        note: &str,
    ) -> anyhow::Result<bool> {
        let frozen: &[&str] = match step {
            CanaryStep::Void => &["done", "void"],
            CanaryStep::Unwinding => &["done", "void"],
            _ => &["done", "void", "unwinding"],
        };
        let done = sqlx::query(
            "UPDATE canaries SET step = ?, job_id = COALESCE(?, job_id), dispute_id = COALESCE(?, dispute_id), \
             note = ?, updated_at = unixepoch() WHERE id = ? AND step NOT IN (?, ?, ?)",
        )
        .bind(step.as_str())
        .bind(job.map(|j| j.to_string()))
        .bind(dispute.map(|d| d.to_string()))
        .bind(note)
        .bind(id)
        .bind(frozen[0])
        .bind(frozen[1])
        .bind(frozen.get(2).copied().unwrap_or(frozen[1]))
        .execute(&self.pool)
        .await
        .with_context(|| format!("journaling canary {id} as {}", step.as_str()))?;
        Ok(done.rows_affected() == 1)
    }

    /// Every canary, oldest first.
    ///
    /// Errors: the database cannot be read, or holds a row this version cannot read.
    pub async fn canaries(&self) -> anyhow::Result<Vec<Canary>> {
        let rows = sqlx::query(
            "SELECT id, step, answer, salt, buyer_key, challenger_key, input, from_block, job_id, dispute_id, note              FROM canaries ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .context("reading the journal's canaries")?;
        let b256 = |text: String, what: &str| -> anyhow::Result<B256> {
            text.parse().with_context(|| format!("journal: canary {what} {text:?}"))
        };
        rows.iter()
            .map(|r| {
                let step: String = r.try_get("step")?;
                let job: Option<String> = r.try_get("job_id")?;
                let dispute: Option<String> = r.try_get("dispute_id")?;
                let answer: i64 = r.try_get("answer")?;
                let from_block: i64 = r.try_get("from_block")?;
                Ok(Canary {
                    id: r.try_get("id")?,
                    step: CanaryStep::parse(&step).with_context(|| format!("journal: canary step {step:?}"))?,
                    answer: u8::try_from(answer).context("journal: canary answer")?,
                    salt: b256(r.try_get("salt")?, "salt")?,
                    buyer_key: b256(r.try_get("buyer_key")?, "buyer key")?,
                    challenger_key: b256(r.try_get("challenger_key")?, "challenger key")?,
                    input: r.try_get("input")?,
                    from_block: u64::try_from(from_block).unwrap_or(0),
                    job: job.map(|j| j.parse()).transpose().context("journal: canary job id")?,
                    dispute: dispute.map(|d| d.parse()).transpose().context("journal: canary dispute id")?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }

    /// Seconds since the last canary was planned (`None`: never).
    ///
    /// Errors: the database cannot be read.
    pub async fn since_last_canary(&self) -> anyhow::Result<Option<u64>> {
        let age: Option<i64> = sqlx::query_scalar("SELECT unixepoch() - MAX(planned_at) FROM canaries")
            .fetch_one(&self.pool)
            .await
            .context("reading the journal's canaries")?;
        Ok(age.map(|a| u64::try_from(a).unwrap_or(0)))
    }

    /// Records that `dispute` was deferred for want of seats (a `DrawDeferred` log): the keeper retries it until it
    /// moves on.
    ///
    /// Errors: the database cannot be written.
    pub async fn add_waiting(&self, dispute: U256) -> anyhow::Result<()> {
        sqlx::query("INSERT OR IGNORE INTO waiting_disputes (dispute_id) VALUES (?)")
            .bind(dispute.to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("journaling waiting dispute {dispute}"))?;
        Ok(())
    }

    /// Forgets a waiting dispute that moved on (retried, expired, or drawn by someone else).
    ///
    /// Errors: the database cannot be written.
    pub async fn remove_waiting(&self, dispute: U256) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM waiting_disputes WHERE dispute_id = ?")
            .bind(dispute.to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("forgetting waiting dispute {dispute}"))?;
        Ok(())
    }

    /// The disputes the keeper is waiting on, oldest deferral first.
    ///
    /// Errors: the database cannot be read, or holds an id that is not a number.
    pub async fn waiting_disputes(&self) -> anyhow::Result<Vec<U256>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT dispute_id FROM waiting_disputes ORDER BY deferred_at, rowid")
                .fetch_all(&self.pool)
                .await
                .context("reading the journal's waiting disputes")?;
        ids.iter().map(|d| d.parse().with_context(|| format!("journal: waiting dispute id {d:?}"))).collect()
    }

    /// The next block whose `DisputeOpened` logs get a registration, if a scan has run.
    ///
    /// Errors: the database cannot be read.
    pub async fn canary_cursor(&self) -> anyhow::Result<Option<u64>> {
        self.read_block("canary_cursor").await
    }

    /// Records that every dispute opened below block `next` has had its registration.
    ///
    /// Errors: the database cannot be written.
    pub async fn set_canary_cursor(&self, next: u64) -> anyhow::Result<()> {
        self.write_block("canary_cursor", next).await
    }
}

/// SQLite integers are i64: chain seconds, blocks and millijoules stay far below `i64::MAX`.
fn sql_integer(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn entry(row: &sqlx::sqlite::SqliteRow) -> anyhow::Result<Entry> {
    let text = |name: &str| -> anyhow::Result<Option<String>> { Ok(row.try_get::<Option<String>, _>(name)?) };
    let number =
        |name: &str| -> anyhow::Result<Option<u64>> { Ok(row.try_get::<Option<i64>, _>(name)?.map(|v| v as u64)) };
    let job: String = row.try_get("job_id")?;
    let step: String = row.try_get("step")?;
    Ok(Entry {
        job: job.parse().with_context(|| format!("journal row with job id {job:?}"))?,
        step: step.parse().map_err(anyhow::Error::msg)?,
        input_cid: row.try_get("input_cid")?,
        output_digest: text("output_digest")?
            .map(|d| d.parse::<Sha256Digest>().map_err(|e| anyhow::anyhow!("journal output digest {d:?}: {e}")))
            .transpose()?,
        output_cid: text("output_cid")?,
        input_pinned: row.try_get("input_pinned")?,
        energy_mj: number("energy_mj")?,
        challenge_ends: number("challenge_ends")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_challenge_walks_from_its_evidence_to_its_ticket_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).await.unwrap();
        let (job, found) = (U256::from(12), U256::from(5));
        journal.challenging(job, "ipfs://bafyevidence").await.unwrap();
        journal.ticket_held(found).await.unwrap();
        let open = journal.open_challenges().await.unwrap();
        assert_eq!(
            open,
            vec![
                Challenge { job: found, step: ChallengeStep::Challenged, evidence_uri: None },
                Challenge { job, step: ChallengeStep::Challenging, evidence_uri: Some("ipfs://bafyevidence".into()) },
            ],
            "oldest job first; a ticket found without a row has no known evidence"
        );
        journal.ticket_held(job).await.unwrap();
        journal.set_challenge(job, ChallengeStep::Evidenced, "sent").await.unwrap();
        journal.ticket_held(job).await.unwrap();
        journal.challenging(job, "ipfs://other").await.unwrap();
        let journal = Journal::open(dir.path()).await.unwrap();
        let row = journal.challenge(job).await.unwrap().unwrap();
        assert_eq!(
            (row.step, row.evidence_uri.as_deref()),
            (ChallengeStep::Evidenced, Some("ipfs://bafyevidence")),
            "a row further on is not moved back, and its evidence is kept"
        );
        journal.set_challenge(job, ChallengeStep::Settled, "collected").await.unwrap();
        journal.set_challenge(found, ChallengeStep::Settled, "collected").await.unwrap();
        // A restart that finds the collected ticket again, or judges the job again, changes nothing.
        journal.ticket_held(job).await.unwrap();
        journal.challenging(job, "ipfs://again").await.unwrap();
        assert!(journal.open_challenges().await.unwrap().is_empty(), "settled stays settled");
        assert_eq!(journal.all_challenges().await.unwrap().len(), 2);
        assert_eq!(journal.challenge(U256::from(99)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn waiting_disputes_survive_a_reopen_in_deferral_order_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).await.unwrap();
        let (a, b) = (U256::from(7), U256::from(3));
        journal.add_waiting(a).await.unwrap();
        journal.add_waiting(b).await.unwrap();
        journal.add_waiting(a).await.unwrap();
        drop(journal);
        let journal = Journal::open(dir.path()).await.unwrap();
        assert_eq!(journal.waiting_disputes().await.unwrap(), [a, b], "once each, first deferred first");
        journal.remove_waiting(a).await.unwrap();
        journal.remove_waiting(U256::from(99)).await.unwrap();
        assert_eq!(journal.waiting_disputes().await.unwrap(), [b]);
    }

    #[tokio::test]
    async fn relay_pins_keep_their_latest_expiry_and_hand_over_to_open_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).await.unwrap();
        journal.relay_pinned("bafyA", 100).await.unwrap();
        journal.relay_pinned("bafyA", 50).await.unwrap();
        journal.relay_pinned("bafyB", 70).await.unwrap();
        assert!(journal.extend_relay_pin("bafyB", 300).await.unwrap());
        assert!(journal.extend_relay_pin("bafyA", 90).await.unwrap());
        assert!(!journal.extend_relay_pin("bafyC", 90).await.unwrap(), "no pin of the relay's");
        assert_eq!(journal.relay_pins().await.unwrap(), vec![("bafyA".into(), 100), ("bafyB".into(), 300)]);
        assert!(!journal.forget_expired_relay_pin("bafyA", 99).await.unwrap(), "not expired yet");
        assert!(journal.forget_expired_relay_pin("bafyA", 100).await.unwrap());
        assert_eq!(journal.relay_pins().await.unwrap().len(), 1);

        // A pin an open job runs on is kept past its expiry; once every such job is closed it goes.
        let (open, done) = (U256::from(1), U256::from(2));
        journal.insert(open, Step::Claimed, "bafyB").await.unwrap();
        journal.insert(done, Step::Claimed, "bafyB").await.unwrap();
        journal.set_step(done, Step::Finalized).await.unwrap();
        assert!(!journal.forget_expired_relay_pin("bafyB", 400).await.unwrap(), "an open job runs on it");
        journal.set_step(open, Step::Closed).await.unwrap();
        assert!(journal.forget_expired_relay_pin("bafyB", 400).await.unwrap());
        assert!(journal.relay_pins().await.unwrap().is_empty());

        assert!(!journal.input_pinned_by_us("bafyB").await.unwrap(), "the relay's pin, not a job's");
        journal.pinned(done, "bafyout", true).await.unwrap();
        assert!(journal.input_pinned_by_us("bafyB").await.unwrap());
    }

    #[tokio::test]
    async fn a_job_walks_its_steps_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).await.unwrap();
        let job = U256::from(7);
        journal.insert(job, Step::Claiming, "bafyinput").await.unwrap();
        journal.insert(job, Step::Claimed, "other").await.unwrap();
        assert_eq!(journal.get(job).await.unwrap().unwrap().step, Step::Claiming, "a second insert changes nothing");
        let lost = U256::from(8);
        journal.insert(lost, Step::Claiming, "bafyfirst").await.unwrap();
        journal.set_step(lost, Step::Lost).await.unwrap();
        journal.insert(lost, Step::Claiming, "bafyagain").await.unwrap();
        let again = journal.get(lost).await.unwrap().unwrap();
        assert_eq!((again.step, again.input_cid.as_str()), (Step::Claiming, "bafyagain"), "a lost job starts afresh");
        journal.forget(lost).await.unwrap();
        journal.set_step(job, Step::Claimed).await.unwrap();
        let digest = Sha256Digest([3; 32]);
        journal.computed(job, digest, 1234).await.unwrap();
        journal.pinned(job, "bafyoutput", true).await.unwrap();
        journal.submitted(job, 99).await.unwrap();
        journal.set_cursor(42).await.unwrap();
        drop(journal);

        let journal = Journal::open(dir.path()).await.unwrap();
        let e = journal.get(job).await.unwrap().unwrap();
        assert_eq!(
            e,
            Entry {
                job,
                step: Step::Submitted,
                input_cid: "bafyinput".into(),
                output_digest: Some(digest),
                output_cid: Some("bafyoutput".into()),
                input_pinned: true,
                energy_mj: Some(1234),
                challenge_ends: Some(99),
            }
        );
        assert_eq!(journal.open_jobs().await.unwrap().len(), 1);
        journal.set_step(job, Step::Finalized).await.unwrap();
        assert!(journal.open_jobs().await.unwrap().is_empty());
        assert_eq!(journal.cursor().await.unwrap(), Some(42));
        journal.forget(job).await.unwrap();
        assert!(journal.get(job).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_duty_keeps_its_vote_and_salt_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).await.unwrap();
        let (first, second) = (U256::from(3), U256::from(11));
        journal.add_duty(second, 0, 100).await.unwrap();
        journal.add_duty(first, 0, 100).await.unwrap();
        let salt = B256::repeat_byte(9);
        journal.voted(first, 0, 2, salt, "row 0: cosine 0.41").await.unwrap();
        journal.add_duty(first, 0, 100).await.unwrap(); // a draw seen again changes nothing
        drop(journal);

        let journal = Journal::open(dir.path()).await.unwrap();
        let open = journal.open_duties().await.unwrap();
        assert_eq!(open.iter().map(|d| d.dispute).collect::<Vec<_>>(), [first, second], "oldest dispute first");
        assert_eq!(
            open[0],
            Duty {
                dispute: first,
                round: 0,
                step: DutyStep::Voted,
                vote: Some(2),
                salt: Some(salt),
                note: Some("row 0: cosine 0.41".into())
            }
        );
        assert_eq!((open[1].step, open[1].vote, open[1].salt), (DutyStep::Drawn, None, None));
        journal.set_duty(first, 0, DutyStep::Done, "resolved").await.unwrap();
        journal.set_duty(second, 0, DutyStep::Missed, "commit period over").await.unwrap();
        assert!(journal.open_duties().await.unwrap().is_empty());
        let all = journal.all_duties().await.unwrap();
        assert_eq!(all.iter().map(|d| d.step).collect::<Vec<_>>(), [DutyStep::Done, DutyStep::Missed]);
        assert_eq!(all[0].salt, Some(salt), "the salt outlives the duty");

        // An appeal round is a new duty beside the first; a redraw seating the operator again in a round it
        // missed opens that round's duty again, and one it is done with stays done.
        journal.add_duty(first, 1, 300).await.unwrap();
        journal.add_duty(second, 0, 200).await.unwrap();
        journal.add_duty(first, 0, 200).await.unwrap();
        let open = journal.open_duties().await.unwrap();
        assert_eq!(open.iter().map(|d| (d.dispute, d.round)).collect::<Vec<_>>(), [(first, 1), (second, 0)]);
        assert_eq!((open[1].step, open[1].vote, open[1].salt), (DutyStep::Drawn, None, None), "a fresh vote");

        // Committed but silent, then seated again by a redraw (another commit deadline): the committee cleared
        // the commitment, so the duty votes afresh; the same draw seen again after a restart changes nothing.
        journal.voted(first, 1, 1, salt, "acceptable").await.unwrap();
        journal.set_duty(first, 1, DutyStep::Committed, "").await.unwrap();
        journal.add_duty(first, 1, 300).await.unwrap();
        let duty = journal.open_duties().await.unwrap().into_iter().find(|d| d.round == 1).unwrap();
        assert_eq!((duty.step, duty.vote), (DutyStep::Committed, Some(1)), "the same draw again");
        journal.add_duty(first, 1, 900).await.unwrap();
        let duty = journal.open_duties().await.unwrap().into_iter().find(|d| d.round == 1).unwrap();
        assert_eq!((duty.step, duty.vote, duty.salt), (DutyStep::Drawn, None, None), "a redraw: a fresh vote");
        // A revealed vote counts on a redrawn seat by itself: the duty stays.
        journal.set_duty(first, 1, DutyStep::Revealed, "").await.unwrap();
        journal.add_duty(first, 1, 1500).await.unwrap();
        let duty = journal.open_duties().await.unwrap().into_iter().find(|d| d.round == 1).unwrap();
        assert_eq!(duty.step, DutyStep::Revealed);
    }

    /// A journal from before rounds (one `duties` row per dispute) opens with its duties as round 0.
    #[tokio::test]
    async fn a_journal_from_before_rounds_keeps_its_duties_as_round_zero() {
        let dir = tempfile::tempdir().unwrap();
        drop(Journal::open(dir.path()).await.unwrap());
        {
            let url = format!("sqlite://{}", dir.path().join("journal.sqlite").display());
            let pool = SqlitePool::connect(&url).await.unwrap();
            sqlx::query("CREATE TABLE duties (dispute_id TEXT PRIMARY KEY, step TEXT NOT NULL, vote INTEGER, salt TEXT, note TEXT, updated_at INTEGER NOT NULL DEFAULT (unixepoch()))")
                .execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO duties (dispute_id, step, vote, salt) VALUES ('7', 'voted', 1, ?)")
                .bind(B256::repeat_byte(3).to_string())
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let journal = Journal::open(dir.path()).await.unwrap();
        let all = journal.all_duties().await.unwrap();
        assert_eq!(
            all,
            [Duty {
                dispute: U256::from(7),
                round: 0,
                step: DutyStep::Voted,
                vote: Some(1),
                salt: Some(B256::repeat_byte(3)),
                note: None
            }]
        );
        drop(journal);
        assert_eq!(Journal::open(dir.path()).await.unwrap().all_duties().await.unwrap().len(), 1, "migrated once");
    }

    #[test]
    fn step_names_round_trip() {
        for step in Step::ALL {
            assert_eq!(step.as_str().parse::<Step>().unwrap(), step);
        }
        assert!("nope".parse::<Step>().is_err());
        for step in [DutyStep::Drawn, DutyStep::Voted, DutyStep::Committed, DutyStep::Revealed, DutyStep::Done] {
            assert_eq!(DutyStep::parse(step.as_str()), Some(step));
        }
        assert_eq!(DutyStep::parse(DutyStep::Missed.as_str()), Some(DutyStep::Missed));
        assert_eq!(DutyStep::parse("nope"), None);
    }
}
