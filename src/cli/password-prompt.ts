import { UsageError, readStdin } from './io.ts';

/**
 * The new password: from standard input with --password-stdin, else typed at the terminal
 * (twice, never echoed). Never from an argument, where it would land in shell history and `ps`.
 */
export async function readNewPassword(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return (await readStdin()).replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) throw new UsageError('pass the password on standard input with --password-stdin (never as an argument), or run this at a terminal');
  const first = await promptHidden('New password: ');
  const second = await promptHidden('Repeat it: ');
  if (first !== second) throw new UsageError('the two passwords differ; nothing was changed');
  return first;
}

/** Reads one line from the terminal in raw mode, so the characters typed are not shown. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Raw mode first: whatever is typed once the question shows must find the echo already off.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return done();
        if (character === '\u0003') return done(new UsageError('cancelled'));
        if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
        else typed += character;
      }
    };
    stdin.on('data', onData);
  });
}
