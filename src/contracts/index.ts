export { ContractArtifactError, loadArtifact } from './artifacts.ts'
export type { ContractArtifact, ContractArtifactErrorCode } from './artifacts.ts'
export {
  PERMISSIONS_ABI,
  PERMISSIONS_ADDRESS,
  PermissionsCodecError,
  ProposalKind,
  SNAPSHOT_CALLDATA,
  decodePermissionsLog,
  decodeProposal,
  decodeProposeResult,
  decodeSnapshot,
  encodeExecute,
  encodeGetProposal,
  encodePropose,
  encodeVote,
  permissionsInitCode,
  permissionsRevertReason,
  permissionsRuntimeCode,
} from './permissions.ts'
export type {
  PermissionsCodecErrorCode,
  PermissionsInit,
  PermissionsLog,
  PermissionsSnapshot,
  Proposal,
  ProposalInput,
  Validator,
} from './permissions.ts'
