// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Catena consortium permissions
/// @notice Deployed at genesis at a fixed address. Admins change, by strict majority vote, the
/// admin set, the BFT validator set, the account allowlist and the node (libp2p peer id)
/// allowlist. The node reads everything with one `snapshot()` call after each block.
/// @dev Every list is an array plus a 1-based index mapping, so removal is O(1) by swap-and-pop
/// and `snapshot()` can return the arrays as they are.
contract Permissions {
    // Proposal kinds (the `kind` argument of `propose`).
    uint8 internal constant ADD_ADMIN = 0;
    uint8 internal constant REMOVE_ADMIN = 1;
    uint8 internal constant SET_VALIDATOR = 2;
    uint8 internal constant ALLOW_ACCOUNT = 3;
    uint8 internal constant DISALLOW_ACCOUNT = 4;
    uint8 internal constant ALLOW_NODE = 5;
    uint8 internal constant DISALLOW_NODE = 6;
    uint8 internal constant RESTRICT_ACCOUNTS = 7;
    uint8 internal constant RESTRICT_NODES = 8;

    /// Longest accepted node id in bytes (a libp2p peer id string is ~52 characters).
    uint256 internal constant MAX_NODE_LENGTH = 128;

    struct Proposal {
        uint8 kind;
        bool executed;
        address proposer;
        address account;
        uint256 power;
        string node;
    }

    error CallerNotAdmin(address caller);
    error UnknownKind(uint8 kind);
    error UnknownProposal(uint256 id);
    error ProposalAlreadyExecuted(uint256 id);
    error AlreadyVoted(uint256 id, address voter);
    error NoMajority(uint256 id, uint256 votes, uint256 admins);
    error UnusedField(uint8 kind);
    error NoAdmins();
    error ZeroAddress();
    error LengthMismatch(uint256 validators, uint256 powers);
    error ZeroPower(address validator);
    error AdminExists(address account);
    error AdminMissing(address account);
    error LastAdmin(address account);
    error ValidatorExists(address validator);
    error ValidatorMissing(address validator);
    error PowerUnchanged(address validator, uint256 power);
    error LastValidator(address validator);
    error AccountExists(address account);
    error AccountMissing(address account);
    error InvalidNode(string node);
    error NodeExists(string node);
    error NodeMissing(string node);
    error LastNode(string node);
    error EmptyNodeAllowlist();
    error RestrictionUnchanged(uint8 kind, bool restricted);

    event Proposed(uint256 indexed id, uint8 kind, address indexed proposer, address account, uint256 power, string node);
    event Voted(uint256 indexed id, address indexed voter, uint256 votes);
    event Executed(uint256 indexed id);

    /// Increments on every executed change, so the node can skip unchanged snapshots.
    uint256 public version;

    address[] internal admins;
    mapping(address => uint256) internal adminIndex; // 1-based; 0 = not an admin

    address[] internal validators;
    uint256[] internal powers; // parallel to `validators`
    mapping(address => uint256) internal validatorIndex; // 1-based

    bool internal accountsRestricted;
    address[] internal accounts;
    mapping(address => uint256) internal accountIndex; // 1-based

    bool internal nodesRestricted;
    string[] internal nodes;
    mapping(bytes32 => uint256) internal nodeIndex; // keccak256(node) => 1-based index

    uint256 public proposalCount;
    mapping(uint256 => Proposal) internal proposals;
    mapping(uint256 => mapping(address => bool)) internal voted;

    modifier onlyAdmin() {
        if (adminIndex[msg.sender] == 0) revert CallerNotAdmin(msg.sender);
        _;
    }

    constructor(
        address[] memory admins_,
        address[] memory validators_,
        uint256[] memory powers_,
        bool accountsRestricted_,
        address[] memory accounts_,
        bool nodesRestricted_,
        string[] memory nodes_
    ) {
        if (admins_.length == 0) revert NoAdmins();
        if (validators_.length != powers_.length) revert LengthMismatch(validators_.length, powers_.length);
        for (uint256 i = 0; i < admins_.length; i++) {
            address a = admins_[i];
            if (a == address(0)) revert ZeroAddress();
            if (adminIndex[a] != 0) revert AdminExists(a);
            _addAdmin(a);
        }
        for (uint256 i = 0; i < validators_.length; i++) {
            address v = validators_[i];
            if (v == address(0)) revert ZeroAddress();
            if (powers_[i] == 0) revert ZeroPower(v);
            if (validatorIndex[v] != 0) revert ValidatorExists(v);
            _setValidator(v, powers_[i]);
        }
        for (uint256 i = 0; i < accounts_.length; i++) {
            address a = accounts_[i];
            if (a == address(0)) revert ZeroAddress();
            if (accountIndex[a] != 0) revert AccountExists(a);
            _allowAccount(a);
        }
        for (uint256 i = 0; i < nodes_.length; i++) {
            string memory n = nodes_[i];
            _checkNodeId(n);
            if (nodeIndex[keccak256(bytes(n))] != 0) revert NodeExists(n);
            _allowNode(n);
        }
        accountsRestricted = accountsRestricted_;
        nodesRestricted = nodesRestricted_;
    }

    // ---------------------------------------------------------------- governance

    /// Opens a proposal with the caller's vote; executes at once if that is already a majority.
    function propose(uint8 kind, address account, uint256 power, string calldata node)
        external
        onlyAdmin
        returns (uint256 id)
    {
        _validate(kind, account, power, node);
        id = ++proposalCount;
        Proposal storage p = proposals[id];
        p.kind = kind;
        p.proposer = msg.sender;
        p.account = account;
        p.power = power;
        p.node = node;
        emit Proposed(id, kind, msg.sender, account, power, node);
        _vote(id, p);
    }

    /// Adds the caller's vote; executes the proposal in this call when the votes become a majority.
    function vote(uint256 id) external onlyAdmin {
        Proposal storage p = _openProposal(id);
        if (voted[id][msg.sender]) revert AlreadyVoted(id, msg.sender);
        _vote(id, p);
    }

    /// Executes a proposal that has a majority but is still open, e.g. because the admin set
    /// shrank after its last vote so no further vote is possible.
    function execute(uint256 id) external onlyAdmin {
        Proposal storage p = _openProposal(id);
        uint256 votes = _countVotes(id);
        if (votes * 2 <= admins.length) revert NoMajority(id, votes, admins.length);
        _execute(id, p);
    }

    // ---------------------------------------------------------------- views

    function snapshot()
        external
        view
        returns (
            uint256 version_,
            address[] memory admins_,
            address[] memory validators_,
            uint256[] memory powers_,
            bool accountsRestricted_,
            address[] memory accounts_,
            bool nodesRestricted_,
            string[] memory nodes_
        )
    {
        return (version, admins, validators, powers, accountsRestricted, accounts, nodesRestricted, nodes);
    }

    /// `votes` counts the current admins that voted for it.
    function getProposal(uint256 id)
        external
        view
        returns (
            uint8 kind,
            address account,
            uint256 power,
            string memory node,
            uint256 votes,
            bool executed,
            address proposer
        )
    {
        if (id == 0 || id > proposalCount) revert UnknownProposal(id);
        Proposal storage p = proposals[id];
        return (p.kind, p.account, p.power, p.node, _countVotes(id), p.executed, p.proposer);
    }

    function hasVoted(uint256 id, address admin) external view returns (bool) {
        return voted[id][admin];
    }

    function isAdmin(address account) external view returns (bool) {
        return adminIndex[account] != 0;
    }

    /// Admins may always send; otherwise only listed accounts while the restriction is on.
    function isAllowedAccount(address account) external view returns (bool) {
        return !accountsRestricted || adminIndex[account] != 0 || accountIndex[account] != 0;
    }

    function isAllowedNode(string calldata node) external view returns (bool) {
        return !nodesRestricted || nodeIndex[keccak256(bytes(node))] != 0;
    }

    // ---------------------------------------------------------------- internals

    function _openProposal(uint256 id) internal view returns (Proposal storage p) {
        if (id == 0 || id > proposalCount) revert UnknownProposal(id);
        p = proposals[id];
        if (p.executed) revert ProposalAlreadyExecuted(id);
    }

    function _vote(uint256 id, Proposal storage p) internal {
        voted[id][msg.sender] = true;
        uint256 votes = _countVotes(id);
        emit Voted(id, msg.sender, votes);
        if (votes * 2 > admins.length) _execute(id, p);
    }

    /// Votes of admins removed since they voted no longer count (a majority is of current admins).
    function _countVotes(uint256 id) internal view returns (uint256 votes) {
        mapping(address => bool) storage v = voted[id];
        uint256 n = admins.length;
        for (uint256 i = 0; i < n; i++) {
            if (v[admins[i]]) votes++;
        }
    }

    function _execute(uint256 id, Proposal storage p) internal {
        uint8 kind = p.kind;
        address account = p.account;
        uint256 power = p.power;
        string memory node = p.node;
        // State may have changed since the proposal was made; a revert here undoes this vote too.
        _validate(kind, account, power, node);
        p.executed = true;
        if (kind == ADD_ADMIN) _addAdmin(account);
        else if (kind == REMOVE_ADMIN) _removeAdmin(account);
        else if (kind == SET_VALIDATOR) {
            if (power == 0) _removeValidator(account);
            else _setValidator(account, power);
        } else if (kind == ALLOW_ACCOUNT) _allowAccount(account);
        else if (kind == DISALLOW_ACCOUNT) _disallowAccount(account);
        else if (kind == ALLOW_NODE) _allowNode(node);
        else if (kind == DISALLOW_NODE) _disallowNode(node);
        else if (kind == RESTRICT_ACCOUNTS) accountsRestricted = power != 0;
        else nodesRestricted = power != 0; // RESTRICT_NODES; _validate rejected anything else
        version++;
        emit Executed(id);
    }

    /// Reverts with the reason a proposal cannot be applied to the current state.
    function _validate(uint8 kind, address account, uint256 power, string memory node) internal view {
        if (kind > RESTRICT_NODES) revert UnknownKind(kind);
        bool usesAccount = kind <= DISALLOW_ACCOUNT;
        bool usesPower = kind == SET_VALIDATOR || kind >= RESTRICT_ACCOUNTS;
        bool usesNode = kind == ALLOW_NODE || kind == DISALLOW_NODE;
        // Fields a kind ignores must be empty, so a proposal means exactly what it shows.
        if ((!usesAccount && account != address(0)) || (!usesPower && power != 0) || (!usesNode && bytes(node).length != 0)) {
            revert UnusedField(kind);
        }
        if (usesAccount && account == address(0)) revert ZeroAddress();

        if (kind == ADD_ADMIN) {
            if (adminIndex[account] != 0) revert AdminExists(account);
        } else if (kind == REMOVE_ADMIN) {
            if (adminIndex[account] == 0) revert AdminMissing(account);
            if (admins.length == 1) revert LastAdmin(account);
        } else if (kind == SET_VALIDATOR) {
            uint256 idx = validatorIndex[account];
            if (power == 0) {
                if (idx == 0) revert ValidatorMissing(account);
                if (validators.length == 1) revert LastValidator(account);
            } else if (idx != 0 && powers[idx - 1] == power) {
                revert PowerUnchanged(account, power);
            }
        } else if (kind == ALLOW_ACCOUNT) {
            if (accountIndex[account] != 0) revert AccountExists(account);
        } else if (kind == DISALLOW_ACCOUNT) {
            if (accountIndex[account] == 0) revert AccountMissing(account);
        } else if (kind == ALLOW_NODE) {
            _checkNodeId(node);
            if (nodeIndex[keccak256(bytes(node))] != 0) revert NodeExists(node);
        } else if (kind == DISALLOW_NODE) {
            if (nodeIndex[keccak256(bytes(node))] == 0) revert NodeMissing(node);
            // An empty restricted allowlist would cut every node off, including from undoing it.
            if (nodesRestricted && nodes.length == 1) revert LastNode(node);
        } else if (kind == RESTRICT_ACCOUNTS) {
            if (accountsRestricted == (power != 0)) revert RestrictionUnchanged(kind, accountsRestricted);
        } else {
            // RESTRICT_NODES
            if (nodesRestricted == (power != 0)) revert RestrictionUnchanged(kind, nodesRestricted);
            if (power != 0 && nodes.length == 0) revert EmptyNodeAllowlist();
        }
    }

    function _checkNodeId(string memory node) internal pure {
        uint256 len = bytes(node).length;
        if (len == 0 || len > MAX_NODE_LENGTH) revert InvalidNode(node);
    }

    function _addAdmin(address a) internal {
        admins.push(a);
        adminIndex[a] = admins.length;
    }

    function _removeAdmin(address a) internal {
        uint256 i = adminIndex[a] - 1;
        uint256 last = admins.length - 1;
        if (i != last) {
            address moved = admins[last];
            admins[i] = moved;
            adminIndex[moved] = i + 1;
        }
        admins.pop();
        delete adminIndex[a];
    }

    function _setValidator(address v, uint256 power) internal {
        uint256 idx = validatorIndex[v];
        if (idx != 0) {
            powers[idx - 1] = power;
        } else {
            validators.push(v);
            powers.push(power);
            validatorIndex[v] = validators.length;
        }
    }

    function _removeValidator(address v) internal {
        uint256 i = validatorIndex[v] - 1;
        uint256 last = validators.length - 1;
        if (i != last) {
            address moved = validators[last];
            validators[i] = moved;
            powers[i] = powers[last];
            validatorIndex[moved] = i + 1;
        }
        validators.pop();
        powers.pop();
        delete validatorIndex[v];
    }

    function _allowAccount(address a) internal {
        accounts.push(a);
        accountIndex[a] = accounts.length;
    }

    function _disallowAccount(address a) internal {
        uint256 i = accountIndex[a] - 1;
        uint256 last = accounts.length - 1;
        if (i != last) {
            address moved = accounts[last];
            accounts[i] = moved;
            accountIndex[moved] = i + 1;
        }
        accounts.pop();
        delete accountIndex[a];
    }

    function _allowNode(string memory n) internal {
        nodes.push(n);
        nodeIndex[keccak256(bytes(n))] = nodes.length;
    }

    function _disallowNode(string memory n) internal {
        bytes32 key = keccak256(bytes(n));
        uint256 i = nodeIndex[key] - 1;
        uint256 last = nodes.length - 1;
        if (i != last) {
            string memory moved = nodes[last];
            nodes[i] = moved;
            nodeIndex[keccak256(bytes(moved))] = i + 1;
        }
        nodes.pop();
        delete nodeIndex[key];
    }
}
