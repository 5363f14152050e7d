/** A workflow command GitHub's runner would run from a step's output. */
export interface RunCommand {
  name: string;
  data: string;
}

/**
 * What GitHub's runner would run from a step's output (actions/runner
 * ActionCommandManager.cs and ActionCommand.cs, read for the rules, not
 * copied): each line (split at CR, LF, CRLF) is a command when, after leading
 * whitespace, it is `::name props::data`, or when it holds the legacy
 * `##[name props]data` anywhere; between `::stop-commands::TOKEN` and a
 * command named TOKEN nothing runs.
 */
export function commandsRun(output: string): RunCommand[] {
  const run: RunCommand[] = [];
  let stopToken: string | undefined;
  for (const line of output.split(/\r\n|\r|\n/)) {
    const v2 = /^::([^\s:]+)[^:]*::(.*)$/.exec(line.trimStart());
    const legacy = v2 ? undefined : /##\[([^\s\]]+)[^\]]*\](.*)$/.exec(line);
    const match = v2 ?? legacy;
    if (!match) continue;
    const command = { name: match[1] ?? '', data: match[2] ?? '' };
    if (stopToken !== undefined) {
      if (command.name.toLowerCase() === stopToken.toLowerCase()) stopToken = undefined;
      continue;
    }
    if (command.name === 'stop-commands') stopToken = command.data;
    else run.push(command);
  }
  return run;
}
