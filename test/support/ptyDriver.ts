import { spawnSync } from 'node:child_process';

/** The keys, typed as an answer of their own. */
export const CTRL_C = '\u0003';
export const CTRL_D = '\u0004';

/**
 * Runs argv on a real pseudo-terminal and, each time a prompt ("...: ") is
 * shown, types the next line of stdin; a line that is ^C or ^D is sent as
 * that key alone, as a person would press it.
 */
const PTY_DRIVER = String.raw`
import os, pty, re, select, sys
answers = sys.stdin.buffer.read().split(b"\n")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = pending = b""
while True:
    if not select.select([fd], [], [], 20)[0]: break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk: break
    out += chunk
    pending += chunk
    if answers and re.search(rb": \x1b\[\d+G$", pending):
        pending = b""
        answer = answers.pop(0)
        os.write(fd, answer if answer in (b"\x03", b"\x04") else answer + b"\r")
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** `argv` run at a terminal, `answers` typed at its prompts (CTRL_C and CTRL_D as keys); its exit status and raw output. */
export function atPty(argv: string[], answers: readonly string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string } {
  const done = spawnSync('python3', ['-c', PTY_DRIVER, ...argv], { input: answers.join('\n'), encoding: 'utf8', timeout: timeoutMs });
  return { status: done.status, stdout: done.stdout, stderr: done.stderr };
}
