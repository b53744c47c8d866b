-- cairn-indexer schema v1. Portable SQL: the same file runs on SQLite and PostgreSQL (sqlx's Any driver).
-- Numbers that fit i64 are BIGINT; token amounts, ids and digests (uint256, bytes32, addresses) are TEXT
-- (decimal for amounts and ids, 0x-prefixed lowercase hex otherwise).

-- Facts about the indexed deployment: chain id, deployment block and its hash (a changed hash means the
-- chain was reset or the contracts redeployed), the deployments file's addresses.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The last block whose logs are all stored, advanced in the same transaction as the rows it covers.
CREATE TABLE checkpoint (
    id BIGINT PRIMARY KEY,
    block_number BIGINT NOT NULL,
    block_hash TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Block headers: every block that holds a Cairn log (for timestamps), and every block of the recent window
-- (for the parent-hash chain that detects reorgs).
CREATE TABLE blocks (
    number BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    parent_hash TEXT NOT NULL,
    timestamp BIGINT NOT NULL
);

-- Every log of a Cairn contract, decoded or not, as the node served it (topics a JSON array of 0x-hex words,
-- data 0x-hex); `event` is its ABI name ('?' with `error` when it does not decode). The API decodes the fields
-- through the committed ABIs when it serves a log. (block_number, log_index) is unique on the canonical chain.
CREATE TABLE events (
    chain_id BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    tx_index BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    address TEXT NOT NULL,
    contract TEXT NOT NULL,
    event TEXT NOT NULL,
    topics TEXT NOT NULL,
    data TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (block_number, log_index)
);
CREATE UNIQUE INDEX events_key ON events (chain_id, block_hash, tx_hash, log_index);
CREATE INDEX events_undecoded ON events (block_number) WHERE error IS NOT NULL;

-- Who appears in each event, for account trails: one row per address and event, `role` the names of the
-- address-typed fields that hold it, comma-separated (the zero address is no account and is left out).
CREATE TABLE event_accounts (
    account TEXT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (account, block_number, log_index, role)
);
CREATE INDEX event_accounts_block ON event_accounts (block_number);

-- Projections. Every projection table is versioned the same way, one version per entity and block: a block's
-- changes to an entity supersede its current row (superseded_block = the block) and insert one new row, made
-- by the block's last event that changed it; the current row has superseded_block NULL. A reorg to fork block F is then, for every table alike:
--   DELETE FROM t WHERE block_number > F;  UPDATE t SET superseded_block = NULL WHERE superseded_block > F;
-- and the superseded rows are each entity's history, block by block (terms, stake, parameters over time; a
-- job's every transition is also kept in its `data`).
-- (block_number, log_index) name the event that made the row; (created_block, created_log) the event that
-- created the entity (list order and cursors). `data` is the entity as JSON.

CREATE TABLE models (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    seller TEXT NOT NULL,
    runtime TEXT NOT NULL,
    deprecated BIGINT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE model_versions (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    model_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE licenses (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    model_id TEXT NOT NULL,
    buyer TEXT NOT NULL,
    expiry BIGINT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE operators (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    region BIGINT NOT NULL,
    verifier BIGINT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE jobs (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    model_id TEXT NOT NULL,
    buyer TEXT NOT NULL,
    operator TEXT,
    state TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE disputes (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    job_id TEXT,
    phase TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE balances (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    contract TEXT NOT NULL,
    account TEXT NOT NULL,
    token TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE params (
    id TEXT NOT NULL,
    created_block BIGINT NOT NULL,
    created_log BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    superseded_block BIGINT,
    contract TEXT NOT NULL,
    data TEXT NOT NULL
);

-- One current row per entity; history and rollback by block.
CREATE UNIQUE INDEX models_current ON models (id) WHERE superseded_block IS NULL;
CREATE INDEX models_history ON models (id, block_number, log_index);
CREATE INDEX models_created ON models (created_block, created_log);
CREATE UNIQUE INDEX model_versions_current ON model_versions (id) WHERE superseded_block IS NULL;
CREATE INDEX model_versions_history ON model_versions (id, block_number, log_index);
CREATE INDEX model_versions_model ON model_versions (model_id, version);
CREATE UNIQUE INDEX licenses_current ON licenses (id) WHERE superseded_block IS NULL;
CREATE INDEX licenses_history ON licenses (id, block_number, log_index);
CREATE INDEX licenses_buyer ON licenses (buyer);
CREATE INDEX licenses_model ON licenses (model_id);
CREATE UNIQUE INDEX operators_current ON operators (id) WHERE superseded_block IS NULL;
CREATE INDEX operators_history ON operators (id, block_number, log_index);
CREATE INDEX operators_created ON operators (created_block, created_log);
CREATE UNIQUE INDEX jobs_current ON jobs (id) WHERE superseded_block IS NULL;
CREATE INDEX jobs_history ON jobs (id, block_number, log_index);
CREATE INDEX jobs_created ON jobs (created_block, created_log) WHERE superseded_block IS NULL;
CREATE INDEX jobs_model ON jobs (model_id, created_block, created_log) WHERE superseded_block IS NULL;
CREATE INDEX jobs_buyer ON jobs (buyer, created_block, created_log) WHERE superseded_block IS NULL;
CREATE INDEX jobs_operator ON jobs (operator, created_block, created_log) WHERE superseded_block IS NULL;
CREATE INDEX jobs_state ON jobs (state, created_block, created_log) WHERE superseded_block IS NULL;
CREATE UNIQUE INDEX disputes_current ON disputes (id) WHERE superseded_block IS NULL;
CREATE INDEX disputes_history ON disputes (id, block_number, log_index);
CREATE INDEX disputes_job ON disputes (job_id);
CREATE UNIQUE INDEX balances_current ON balances (id) WHERE superseded_block IS NULL;
CREATE INDEX balances_history ON balances (id, block_number, log_index);
CREATE INDEX balances_account ON balances (account);
CREATE UNIQUE INDEX params_current ON params (id) WHERE superseded_block IS NULL;
CREATE INDEX params_history ON params (id, block_number, log_index);
-- Rollback scans by block.
CREATE INDEX models_block ON models (block_number);
CREATE INDEX model_versions_block ON model_versions (block_number);
CREATE INDEX licenses_block ON licenses (block_number);
CREATE INDEX operators_block ON operators (block_number);
CREATE INDEX jobs_block ON jobs (block_number);
CREATE INDEX disputes_block ON disputes (block_number);
CREATE INDEX balances_block ON balances (block_number);
CREATE INDEX params_block ON params (block_number);
CREATE INDEX models_superseded ON models (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX model_versions_superseded ON model_versions (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX licenses_superseded ON licenses (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX operators_superseded ON operators (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX jobs_superseded ON jobs (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX disputes_superseded ON disputes (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX balances_superseded ON balances (superseded_block) WHERE superseded_block IS NOT NULL;
CREATE INDEX params_superseded ON params (superseded_block) WHERE superseded_block IS NOT NULL;
