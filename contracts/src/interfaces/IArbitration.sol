// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IArbitrator (ERC-792 shaped)
/// @notice What the job market needs of a dispute resolver.
interface IArbitrator {
    /// @notice A dispute was created.
    /// @param disputeId The dispute.
    /// @param arbitrable The contract that will be ruled on.
    event DisputeCreation(uint256 indexed disputeId, address indexed arbitrable);

    /// @notice Opens a dispute; msg.value must equal `arbitrationCost(extraData)`.
    /// @param choices Number of ruling options besides 0 (refuse to rule).
    /// @param extraData Arbitrator-specific data (for the committee: abi.encode(accused, challenger, stakeBefore, bond),
    /// `stakeBefore` a uint64 in Unix seconds: jurors sit on stake matured by then or by the opening, the earlier;
    /// `bond` a uint256 in wei, the accused's bond at stake, which sets the dispute's own wait for seats, `waitFor`).
    /// @return disputeId The new dispute.
    function createDispute(uint256 choices, bytes calldata extraData) external payable returns (uint256 disputeId);

    /// @notice The fee to open a dispute.
    /// @param extraData As for createDispute.
    /// @return Wei.
    function arbitrationCost(bytes calldata extraData) external view returns (uint256);
}

/// @title IArbitrable (ERC-792 shaped)
/// @notice Receives rulings. Ruling 0 = refuse to rule, 1 = claimed output acceptable, 2 = not acceptable, 3 = the
/// job's input could not be fetched (Cairn's disputes open with 3 choices; issue #12, input availability).
interface IArbitrable {
    /// @notice A final ruling was given.
    /// @param arbitrator The arbitrator.
    /// @param disputeId The dispute.
    /// @param ruling The ruling.
    event Ruling(address indexed arbitrator, uint256 indexed disputeId, uint256 ruling);

    /// @notice Called by the arbitrator with the final ruling.
    /// @param disputeId The dispute.
    /// @param ruling The ruling.
    function rule(uint256 disputeId, uint256 ruling) external;
}

/// @title IMetaEvidence (ERC-1497, the context half)
/// @notice Emitted by the job market for each job: what any later dispute about it is about.
interface IMetaEvidence {
    /// @notice Context for disputes about a job.
    /// @param metaEvidenceId The job id.
    /// @param evidence URI of the meta-evidence.
    event MetaEvidence(uint256 indexed metaEvidenceId, string evidence);
}

/// @title IEvidence (ERC-1497, the dispute half)
/// @notice Emitted by the dispute desk, the arbitrable side of Cairn's disputes. ERC-1497 puts `MetaEvidence` in
/// the same interface; Cairn splits it off (IMetaEvidence) because the market, not the desk, knows a job's
/// context when it is requested, and an ABI should not declare events its contract never emits.
interface IEvidence {
    /// @notice Evidence was submitted.
    /// @param arbitrator The arbitrator.
    /// @param evidenceGroupId The job id.
    /// @param party Who submitted it.
    /// @param evidence URI of the evidence.
    event Evidence(address indexed arbitrator, uint256 indexed evidenceGroupId, address indexed party, string evidence);
    /// @notice A dispute was linked to a job.
    /// @param arbitrator The arbitrator.
    /// @param disputeId The dispute.
    /// @param metaEvidenceId The job id.
    /// @param evidenceGroupId The job id.
    event Dispute(
        address indexed arbitrator, uint256 indexed disputeId, uint256 metaEvidenceId, uint256 evidenceGroupId
    );
}
