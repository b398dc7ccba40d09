/** ethereumjs appends VM/block/tx debug context to its errors; users get the reason only. */
export function cleanVmMessage(message: string): string {
  return message.replace(/\s*\(vm hf=.*$/s, '').replace(/ -> .*$/s, '')
}
