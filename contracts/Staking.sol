// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Catena Proof-of-Stake staking
/// @notice Deployed at genesis at a fixed address. Validators bond their own stake (no
/// delegation), unbond it with a delay, and are slashed and jailed on evidence of double
/// voting, which the node applies through a system call. The node reads the active set with
/// one `snapshot()` call and takes the top `maxValidators` by stake.
/// @dev Only validators whose stake reaches `minStake` are kept in the `candidates` array
/// (1-based index in `Validator.index`, swap-and-pop removal), so stakers below the minimum
/// cannot make `snapshot()` expensive. Burned wei stays in the contract and is only counted.
contract Staking {
    /// The node's caller for system calls (as in EIP-4788 / EIP-2935).
    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    uint256 internal constant BASIS_POINTS = 10_000;
    /// Bounds the loops of `slash` and `withdraw`; unstakes in the same block share one entry.
    uint256 internal constant MAX_UNBONDING_ENTRIES = 16;
    /// Bounds block-count parameters so heights fit in a uint64 for centuries of blocks.
    uint256 internal constant MAX_BLOCKS_PARAMETER = type(uint32).max;

    struct Validator {
        uint256 stake;
        /// Height from which `unjail` is allowed; meaningful while `jailed`.
        uint64 jailedUntil;
        bool jailed;
        /// Ever staked (or a genesis validator): only known validators can be slashed.
        bool known;
        /// 1-based position in `candidates`; 0 while stake < minStake.
        uint32 index;
    }

    struct Unbonding {
        uint256 amount;
        uint256 releaseHeight;
    }

    error CallerNotSystem(address caller);
    error ZeroAddress();
    error LengthMismatch(uint256 validators, uint256 stakes);
    error DuplicateValidator(address validator);
    error InvalidParameter(string name, uint256 value);
    error StakeBelowMinimum(address validator, uint256 stake, uint256 minStake);
    error ZeroAmount();
    error InsufficientStake(address validator, uint256 stake, uint256 amount);
    error DustStake(address validator, uint256 remaining, uint256 minStake);
    error TooManyUnbondingEntries(address validator, uint256 max);
    error WithdrawFailed(address validator, uint256 amount);
    error UnknownValidator(address validator);
    error AlreadySlashed(address validator, uint256 height, uint256 round);
    error AlreadyJailed(address validator, uint256 until);
    error NotJailed(address validator);
    error StillJailed(address validator, uint256 until);

    event Staked(address indexed validator, uint256 amount, uint256 total);
    event Unstaked(address indexed validator, uint256 amount, uint256 releaseHeight);
    event Withdrawn(address indexed validator, uint256 amount);
    event Slashed(address indexed validator, uint256 height, uint256 round, uint256 burned);
    event Jailed(address indexed validator, uint256 until);
    event Unjailed(address indexed validator);

    // Parameters, fixed at construction. Storage rather than immutables, so the runtime code
    // is the same for every chain and the node can check it against the artifact.
    uint256 internal minStake_;
    uint256 internal unbondingBlocks_;
    uint256 internal slashBasisPoints_;
    uint256 internal jailBlocks_;
    uint256 internal maxValidators_;

    uint256 public totalStaked;
    uint256 public totalUnbonding;
    /// Slashed wei: held by the contract forever, never withdrawable.
    uint256 public totalBurned;

    address[] internal candidates;
    mapping(address => Validator) internal validators;
    mapping(address => Unbonding[]) internal unbondings;
    /// keccak256(validator, height, round) of every applied offense.
    mapping(bytes32 => bool) internal slashed;

    /// Genesis stakes. The node funds this account with the sum of `stakes` before running
    /// the constructor, so the arguments are trusted rather than paid for with msg.value.
    constructor(
        address[] memory validators_,
        uint256[] memory stakes_,
        uint256 minStake,
        uint256 unbondingBlocks,
        uint256 slashBasisPoints,
        uint256 jailBlocks,
        uint256 maxValidators
    ) {
        if (validators_.length != stakes_.length) revert LengthMismatch(validators_.length, stakes_.length);
        if (minStake == 0) revert InvalidParameter("minStake", minStake);
        if (unbondingBlocks > MAX_BLOCKS_PARAMETER) revert InvalidParameter("unbondingBlocks", unbondingBlocks);
        if (slashBasisPoints > BASIS_POINTS) revert InvalidParameter("slashBasisPoints", slashBasisPoints);
        if (jailBlocks > MAX_BLOCKS_PARAMETER) revert InvalidParameter("jailBlocks", jailBlocks);
        if (maxValidators == 0) revert InvalidParameter("maxValidators", maxValidators);
        minStake_ = minStake;
        unbondingBlocks_ = unbondingBlocks;
        slashBasisPoints_ = slashBasisPoints;
        jailBlocks_ = jailBlocks;
        maxValidators_ = maxValidators;

        uint256 total = 0;
        for (uint256 i = 0; i < validators_.length; i++) {
            address v = validators_[i];
            uint256 s = stakes_[i];
            if (v == address(0)) revert ZeroAddress();
            Validator storage val = validators[v];
            if (val.known) revert DuplicateValidator(v);
            if (s < minStake) revert StakeBelowMinimum(v, s, minStake);
            val.known = true;
            val.stake = s;
            total += s;
            candidates.push(v);
            val.index = uint32(candidates.length);
        }
        totalStaked = total;
    }

    // ---------------------------------------------------------------- validators

    /// Adds msg.value to the caller's stake. A jailed validator stays jailed.
    function stake() external payable {
        if (msg.value == 0) revert ZeroAmount();
        Validator storage val = validators[msg.sender];
        val.known = true;
        uint256 total = val.stake + msg.value;
        val.stake = total;
        totalStaked += msg.value;
        if (val.index == 0 && total >= minStake_) _addCandidate(msg.sender, val);
        emit Staked(msg.sender, msg.value, total);
    }

    /// Moves `amount` of the caller's stake into unbonding, withdrawable from
    /// block.number + unbondingBlocks and slashable until then.
    function unstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Validator storage val = validators[msg.sender];
        uint256 current = val.stake;
        if (amount > current) revert InsufficientStake(msg.sender, current, amount);
        uint256 remaining = current - amount;
        uint256 min = minStake_;
        // No validator may linger below the minimum with a stake that still counts.
        if (remaining != 0 && remaining < min) revert DustStake(msg.sender, remaining, min);

        uint256 releaseHeight = block.number + unbondingBlocks_;
        Unbonding[] storage entries = unbondings[msg.sender];
        uint256 n = entries.length;
        // Release heights only grow, so a same-height entry can only be the last one.
        if (n != 0 && entries[n - 1].releaseHeight == releaseHeight) {
            entries[n - 1].amount += amount;
        } else {
            if (n == MAX_UNBONDING_ENTRIES) revert TooManyUnbondingEntries(msg.sender, MAX_UNBONDING_ENTRIES);
            entries.push(Unbonding(amount, releaseHeight));
        }
        val.stake = remaining;
        totalStaked -= amount;
        totalUnbonding += amount;
        if (val.index != 0 && remaining < min) _removeCandidate(val);
        emit Unstaked(msg.sender, amount, releaseHeight);
    }

    /// Pays the caller every unbonding entry whose release height has been reached; returns
    /// the amount (0 when nothing is released yet).
    function withdraw() external returns (uint256 amount) {
        Unbonding[] storage entries = unbondings[msg.sender];
        uint256 n = entries.length;
        // Entries are in release order, so the released ones are a prefix.
        uint256 released = 0;
        while (released < n && entries[released].releaseHeight <= block.number) {
            amount += entries[released].amount;
            released++;
        }
        if (released == 0) return 0;
        // Effects before the transfer: the entries are gone before any code of the caller runs.
        for (uint256 i = released; i < n; i++) entries[i - released] = entries[i];
        for (uint256 i = 0; i < released; i++) entries.pop();
        // A fully slashed entry may have released nothing.
        if (amount == 0) return 0;
        totalUnbonding -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert WithdrawFailed(msg.sender, amount);
    }

    /// Ends the caller's jail once its term is over, provided its stake is back at the minimum.
    function unjail() external {
        Validator storage val = validators[msg.sender];
        if (!val.jailed) revert NotJailed(msg.sender);
        if (block.number < val.jailedUntil) revert StillJailed(msg.sender, val.jailedUntil);
        if (val.stake < minStake_) revert StakeBelowMinimum(msg.sender, val.stake, minStake_);
        val.jailed = false;
        val.jailedUntil = 0;
        emit Unjailed(msg.sender);
    }

    // ---------------------------------------------------------------- system

    /// Punishes one double-vote offense of `validator` at (height, round): burns
    /// slashBasisPoints of its stake and of each unbonding entry, and jails it.
    function slash(address validator, uint256 height, uint256 round) external {
        if (msg.sender != SYSTEM_ADDRESS) revert CallerNotSystem(msg.sender);
        Validator storage val = validators[validator];
        if (!val.known) revert UnknownValidator(validator);
        bytes32 offense = keccak256(abi.encode(validator, height, round));
        if (slashed[offense]) revert AlreadySlashed(validator, height, round);
        // Once caught, a validator is out: further double votes before it leaves the set (or
        // found later) are not punished again, as Ethereum slashes a validator once.
        if (val.jailed) revert AlreadyJailed(validator, val.jailedUntil);
        slashed[offense] = true;

        uint256 bps = slashBasisPoints_;
        uint256 fromStake = (val.stake * bps) / BASIS_POINTS;
        val.stake -= fromStake;
        totalStaked -= fromStake;

        // Stake that was unbonding when the offense is applied answers for it too.
        uint256 fromUnbonding = 0;
        Unbonding[] storage entries = unbondings[validator];
        uint256 n = entries.length;
        for (uint256 i = 0; i < n; i++) {
            uint256 amount = entries[i].amount;
            uint256 cut = (amount * bps) / BASIS_POINTS;
            if (cut != 0) {
                entries[i].amount = amount - cut;
                fromUnbonding += cut;
            }
        }
        totalUnbonding -= fromUnbonding;

        uint256 burned = fromStake + fromUnbonding;
        totalBurned += burned;
        if (val.index != 0 && val.stake < minStake_) _removeCandidate(val);
        emit Slashed(validator, height, round, burned);

        val.jailedUntil = uint64(block.number + jailBlocks_);
        val.jailed = true;
        emit Jailed(validator, val.jailedUntil);
    }

    // ---------------------------------------------------------------- views

    /// The active validators (stake >= minStake, not jailed) with their stakes, in candidate
    /// order: insertion order, except that a removal moves the last candidate into the gap.
    function snapshot() external view returns (address[] memory validators_, uint256[] memory stakes_) {
        uint256 n = candidates.length;
        address[] memory all = new address[](n);
        uint256[] memory allStakes = new uint256[](n);
        uint256 count = 0;
        for (uint256 i = 0; i < n; i++) {
            address v = candidates[i];
            Validator storage val = validators[v];
            if (val.jailed) continue;
            all[count] = v;
            allStakes[count] = val.stake;
            count++;
        }
        // Trim the arrays in place to the active count.
        assembly {
            mstore(all, count)
            mstore(allStakes, count)
        }
        return (all, allStakes);
    }

    function stakeOf(address validator) external view returns (uint256) {
        return validators[validator].stake;
    }

    /// Pending unbonding entries in release order (released but not withdrawn ones included).
    function unbondingOf(address validator) external view returns (uint256[] memory amounts, uint256[] memory releaseHeights) {
        Unbonding[] storage entries = unbondings[validator];
        uint256 n = entries.length;
        amounts = new uint256[](n);
        releaseHeights = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            amounts[i] = entries[i].amount;
            releaseHeights[i] = entries[i].releaseHeight;
        }
    }

    /// The height from which a jailed validator may unjail; 0 when it is not jailed.
    function jailedUntil(address validator) external view returns (uint256) {
        Validator storage val = validators[validator];
        return val.jailed ? val.jailedUntil : 0;
    }

    function isJailed(address validator) external view returns (bool) {
        return validators[validator].jailed;
    }

    function isSlashed(address validator, uint256 height, uint256 round) external view returns (bool) {
        return slashed[keccak256(abi.encode(validator, height, round))];
    }

    function params()
        external
        view
        returns (uint256 minStake, uint256 unbondingBlocks, uint256 slashBasisPoints, uint256 jailBlocks, uint256 maxValidators)
    {
        return (minStake_, unbondingBlocks_, slashBasisPoints_, jailBlocks_, maxValidators_);
    }

    // ---------------------------------------------------------------- internals

    function _addCandidate(address v, Validator storage val) internal {
        candidates.push(v);
        val.index = uint32(candidates.length);
    }

    function _removeCandidate(Validator storage val) internal {
        uint256 i = val.index - 1;
        uint256 last = candidates.length - 1;
        if (i != last) {
            address moved = candidates[last];
            candidates[i] = moved;
            validators[moved].index = uint32(i + 1);
        }
        candidates.pop();
        val.index = 0;
    }
}
