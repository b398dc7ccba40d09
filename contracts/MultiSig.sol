// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Catena m-of-n multisig wallet
/// @notice A wallet owned by `n` addresses that makes a call (to, value, data) only once at
/// least `threshold` of its current owners approved it. Owners submit proposals (which counts
/// as their approval), approve or revoke them, and any owner executes one that has enough
/// approvals. The owner set and the threshold change only through the wallet itself: an
/// executed proposal whose call goes to this contract's addOwner / removeOwner / replaceOwner /
/// changeThreshold. Deployed by a normal transaction, so it runs on every Catena chain.
/// @dev Semantics follow Gnosis's MultiSigWallet, with three differences: execution is
/// explicit (never a side effect of the last approval); a failed call reverts the whole
/// `execute` (the proposal stays pending and can be retried) instead of being recorded as
/// failed; and an approval belongs to the owner's current term, so an owner that is removed
/// and later added again does not bring its old approvals back. No delegatecall anywhere.
contract MultiSig {
    /// Bounds the loops over owners (approval counts, owner removal).
    uint256 public constant MAX_OWNERS = 50;

    struct Proposal {
        address to;
        bool executed;
        address proposer;
        uint256 value;
        bytes data;
    }

    error NotOwner(address caller);
    error OnlyWallet(address caller);
    error UnknownProposal(uint256 id);
    error AlreadyExecuted(uint256 id);
    error AlreadyApproved(uint256 id, address owner);
    error NotApproved(uint256 id, address owner);
    error NotEnoughApprovals(uint256 id, uint256 approvals, uint256 threshold);
    error InsufficientBalance(uint256 id, uint256 balance, uint256 value);
    error CallFailed(uint256 id, bytes returnData);
    error Reentrancy();
    error ZeroDestination();
    error NoOwners();
    error TooManyOwners(uint256 owners, uint256 max);
    error InvalidOwner(address owner);
    error OwnerExists(address owner);
    error OwnerNotFound(address owner);
    error InvalidThreshold(uint256 threshold, uint256 owners);
    error RemovalBelowThreshold(address owner, uint256 ownersLeft, uint256 threshold);

    event Deposit(address indexed sender, uint256 value);
    event Submitted(uint256 indexed id, address indexed proposer, address indexed to, uint256 value, bytes data);
    event Approved(uint256 indexed id, address indexed owner, uint256 approvals);
    event Revoked(uint256 indexed id, address indexed owner, uint256 approvals);
    event Executed(uint256 indexed id, address indexed executor);
    event OwnerAdded(address indexed owner);
    event OwnerRemoved(address indexed owner);
    event ThresholdChanged(uint256 threshold);

    address[] internal ownerList;
    mapping(address => uint256) internal ownerIndex; // 1-based position in ownerList; 0 = not an owner
    /// A fresh number each time an address becomes an owner; 0 = not an owner.
    mapping(address => uint256) internal ownerTerm;
    uint256 internal termCount;

    uint256 public threshold;
    uint256 public proposalCount;
    mapping(uint256 => Proposal) internal proposals;
    /// The approver's term when it approved; it counts only while that term lasts.
    mapping(uint256 => mapping(address => uint256)) internal approvalTerm;

    /// 1 while `execute` runs its call; plain storage so the guard is obvious to auditors.
    uint256 internal executing;

    modifier onlyOwner() {
        if (ownerTerm[msg.sender] == 0) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyWallet() {
        if (msg.sender != address(this)) revert OnlyWallet(msg.sender);
        _;
    }

    constructor(address[] memory owners_, uint256 threshold_) {
        if (owners_.length == 0) revert NoOwners();
        if (owners_.length > MAX_OWNERS) revert TooManyOwners(owners_.length, MAX_OWNERS);
        for (uint256 i = 0; i < owners_.length; i++) _addOwner(owners_[i]);
        _setThreshold(threshold_);
    }

    receive() external payable {
        emit Deposit(msg.sender, msg.value);
    }

    // ---- proposals ----

    /// Proposes a call and approves it as the sender; returns its id (0, 1, 2, ...).
    function submit(address to, uint256 value, bytes calldata data) external onlyOwner returns (uint256 id) {
        if (to == address(0)) revert ZeroDestination();
        id = proposalCount++;
        proposals[id] = Proposal({to: to, executed: false, proposer: msg.sender, value: value, data: data});
        emit Submitted(id, msg.sender, to, value, data);
        _approve(id);
    }

    function approve(uint256 id) external onlyOwner {
        _requirePending(id);
        _approve(id);
    }

    /// Withdraws the sender's approval of a proposal that has not been executed.
    function revoke(uint256 id) external onlyOwner {
        _requirePending(id);
        if (!_approvedBy(id, msg.sender)) revert NotApproved(id, msg.sender);
        approvalTerm[id][msg.sender] = 0;
        emit Revoked(id, msg.sender, approvalCount(id));
    }

    /// Makes the proposal's call if enough current owners approve it now. The proposal is
    /// marked executed before the call (so it can never run twice) and a failed call reverts
    /// everything, leaving it pending.
    function execute(uint256 id) external onlyOwner returns (bytes memory result) {
        if (executing != 0) revert Reentrancy();
        _requirePending(id);
        uint256 approvals_ = approvalCount(id);
        if (approvals_ < threshold) revert NotEnoughApprovals(id, approvals_, threshold);
        Proposal storage p = proposals[id];
        if (address(this).balance < p.value) revert InsufficientBalance(id, address(this).balance, p.value);

        p.executed = true;
        executing = 1;
        (bool ok, bytes memory ret) = p.to.call{value: p.value}(p.data);
        executing = 0;
        if (!ok) revert CallFailed(id, ret);
        emit Executed(id, msg.sender);
        return ret;
    }

    // ---- owners and threshold: only through an executed proposal ----

    function addOwner(address owner) external onlyWallet {
        if (ownerList.length >= MAX_OWNERS) revert TooManyOwners(ownerList.length + 1, MAX_OWNERS);
        _addOwner(owner);
    }

    function removeOwner(address owner) external onlyWallet {
        if (ownerTerm[owner] == 0) revert OwnerNotFound(owner);
        if (ownerList.length - 1 < threshold) revert RemovalBelowThreshold(owner, ownerList.length - 1, threshold);
        uint256 i = ownerIndex[owner] - 1;
        address last = ownerList[ownerList.length - 1];
        ownerList[i] = last;
        ownerIndex[last] = i + 1;
        ownerList.pop();
        delete ownerIndex[owner];
        delete ownerTerm[owner];
        emit OwnerRemoved(owner);
    }

    /// Swaps one owner for another in place; the old owner's approvals stop counting.
    function replaceOwner(address owner, address newOwner) external onlyWallet {
        if (ownerTerm[owner] == 0) revert OwnerNotFound(owner);
        _checkNewOwner(newOwner);
        uint256 index = ownerIndex[owner];
        ownerList[index - 1] = newOwner;
        ownerIndex[newOwner] = index;
        ownerTerm[newOwner] = ++termCount;
        delete ownerIndex[owner];
        delete ownerTerm[owner];
        emit OwnerRemoved(owner);
        emit OwnerAdded(newOwner);
    }

    function changeThreshold(uint256 threshold_) external onlyWallet {
        _setThreshold(threshold_);
    }

    // ---- views ----

    function owners() external view returns (address[] memory) {
        return ownerList;
    }

    function isOwner(address account) external view returns (bool) {
        return ownerTerm[account] != 0;
    }

    /// `approved`: how many current owners approve it.
    function proposal(uint256 id)
        external
        view
        returns (address to, uint256 value, bytes memory data, bool executed, address proposer, uint256 approved)
    {
        if (id >= proposalCount) revert UnknownProposal(id);
        Proposal storage p = proposals[id];
        return (p.to, p.value, p.data, p.executed, p.proposer, approvalCount(id));
    }

    /// The current owners that approve proposal `id`, in owner order.
    function approvals(uint256 id) external view returns (address[] memory approvers) {
        if (id >= proposalCount) revert UnknownProposal(id);
        approvers = new address[](approvalCount(id));
        uint256 n = 0;
        for (uint256 i = 0; i < ownerList.length; i++) {
            if (_approvedBy(id, ownerList[i])) approvers[n++] = ownerList[i];
        }
    }

    function approvalCount(uint256 id) public view returns (uint256 count) {
        for (uint256 i = 0; i < ownerList.length; i++) {
            if (_approvedBy(id, ownerList[i])) count++;
        }
    }

    function isApprovedBy(uint256 id, address owner) external view returns (bool) {
        return _approvedBy(id, owner);
    }

    /// Ids in [from, to) (clipped to the proposals that exist) not yet executed, in order.
    function pendingProposals(uint256 from, uint256 to) external view returns (uint256[] memory ids) {
        if (to > proposalCount) to = proposalCount;
        if (from >= to) return new uint256[](0);
        uint256[] memory buf = new uint256[](to - from);
        uint256 n = 0;
        for (uint256 id = from; id < to; id++) {
            if (!proposals[id].executed) buf[n++] = id;
        }
        ids = new uint256[](n);
        for (uint256 i = 0; i < n; i++) ids[i] = buf[i];
    }

    // ---- internals ----

    function _approve(uint256 id) internal {
        if (_approvedBy(id, msg.sender)) revert AlreadyApproved(id, msg.sender);
        approvalTerm[id][msg.sender] = ownerTerm[msg.sender];
        emit Approved(id, msg.sender, approvalCount(id));
    }

    function _approvedBy(uint256 id, address owner) internal view returns (bool) {
        uint256 term = ownerTerm[owner];
        return term != 0 && approvalTerm[id][owner] == term;
    }

    function _requirePending(uint256 id) internal view {
        if (id >= proposalCount) revert UnknownProposal(id);
        if (proposals[id].executed) revert AlreadyExecuted(id);
    }

    function _checkNewOwner(address owner) internal view {
        if (owner == address(0) || owner == address(this)) revert InvalidOwner(owner);
        if (ownerTerm[owner] != 0) revert OwnerExists(owner);
    }

    function _addOwner(address owner) internal {
        _checkNewOwner(owner);
        ownerList.push(owner);
        ownerIndex[owner] = ownerList.length;
        ownerTerm[owner] = ++termCount;
        emit OwnerAdded(owner);
    }

    function _setThreshold(uint256 threshold_) internal {
        if (threshold_ == 0 || threshold_ > ownerList.length) revert InvalidThreshold(threshold_, ownerList.length);
        threshold = threshold_;
        emit ThresholdChanged(threshold_);
    }
}
