/**
 * Reusable ethereumjs VMs. Creating a VM builds its opcode and precompile tables (over a
 * millisecond), which dominated small blocks; a VM here is created once and pointed at each
 * block's overlay state through StateSwitch. One VM serves one execution at a time.
 */
import { createVM, type VM } from '@ethereumjs/vm'
import type { Common, StateManagerInterface, AccountFields } from '@ethereumjs/common'
import type { Account, Address } from '@ethereumjs/util'
import type { OverlayState } from '../state/index.ts'
import { blockHashLookup } from './evm-context.ts'

/** A state manager that forwards to the overlay of the execution in progress. */
class StateSwitch implements StateManagerInterface {
  current?: OverlayState

  private get s(): OverlayState {
    if (!this.current) throw new Error('VM used outside of an execution')
    return this.current
  }
  get originalStorageCache() {
    return this.s.originalStorageCache
  }
  getAccount(a: Address): Promise<Account | undefined> {
    return this.s.getAccount(a)
  }
  putAccount(a: Address, account?: Account): Promise<void> {
    return this.s.putAccount(a, account)
  }
  deleteAccount(a: Address): Promise<void> {
    return this.s.deleteAccount(a)
  }
  modifyAccountFields(a: Address, f: AccountFields): Promise<void> {
    return this.s.modifyAccountFields(a, f)
  }
  putCode(a: Address, code: Uint8Array): Promise<void> {
    return this.s.putCode(a, code)
  }
  getCode(a: Address): Promise<Uint8Array> {
    return this.s.getCode(a)
  }
  getCodeSize(a: Address): Promise<number> {
    return this.s.getCodeSize(a)
  }
  getStorage(a: Address, key: Uint8Array): Promise<Uint8Array> {
    return this.s.getStorage(a, key)
  }
  putStorage(a: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.s.putStorage(a, key, value)
  }
  clearStorage(a: Address): Promise<void> {
    return this.s.clearStorage(a)
  }
  checkpoint(): Promise<void> {
    return this.s.checkpoint()
  }
  commit(): Promise<void> {
    return this.s.commit()
  }
  revert(): Promise<void> {
    return this.s.revert()
  }
  flush(): Promise<void> {
    return this.s.flush()
  }
  getStateRoot(): Promise<Uint8Array> {
    return this.s.getStateRoot()
  }
  setStateRoot(): Promise<void> {
    return this.s.setStateRoot()
  }
  hasStateRoot(root: Uint8Array): Promise<boolean> {
    return this.s.hasStateRoot(root)
  }
  clearCaches(): void {}
  shallowCopy(): StateManagerInterface {
    throw new Error('StateSwitch cannot be copied')
  }
}

export interface PooledVM {
  vm: VM
  state: StateSwitch
  /** BLOCKHASH's source for the current execution (the executed block's own branch). */
  hashes: { current: HashAt }
}

type HashAt = (height: bigint) => Uint8Array | undefined

const MAX_IDLE = 4

export class VmPool {
  private readonly idle: PooledVM[] = []

  constructor(
    private readonly common: Common,
    /** The canonical chain's hashes: BLOCKHASH for calls and for blocks on the canonical branch. */
    private readonly hashAt: HashAt,
  ) {}

  /** Runs `fn` with a VM whose state is `state`; the VM returns to the pool afterwards. */
  async with<T>(state: OverlayState, fn: (vm: VM) => Promise<T>, hashAt?: HashAt): Promise<T> {
    const entry = this.idle.pop() ?? (await this.create())
    entry.state.current = state
    entry.hashes.current = hashAt ?? this.hashAt
    try {
      return await fn(entry.vm)
    } finally {
      entry.state.current = undefined
      if (this.idle.length < MAX_IDLE) this.idle.push(entry)
    }
  }

  private async create(): Promise<PooledVM> {
    const state = new StateSwitch()
    const hashes = { current: this.hashAt }
    const vm = await createVM({ common: this.common, stateManager: state, blockchain: blockHashLookup((h) => hashes.current(h)) })
    return { vm, state, hashes }
  }
}
