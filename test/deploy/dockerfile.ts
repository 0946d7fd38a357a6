/** A small Dockerfile reader for the tests: instructions with continuations joined, grouped by stage. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const keyword = whole.split(/\s+/, 1)[0] ?? '';
    instructions.push({ keyword: keyword.toUpperCase(), args: whole.slice(keyword.length).trim() });
  }

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      stages.push({ from: image, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [key = '', value = ''] = instruction.args.split('=');
      globalArgs.set(key, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The image a FROM names, with `${ARG}` references resolved from the global ARG defaults. */
export function resolveImage(dockerfile: Dockerfile, stage: Stage): string {
  return stage.from.replace(/\$\{?(\w+)\}?/g, (_, name: string) => dockerfile.globalArgs.get(name) ?? '');
}

/** An exec-form (JSON array) argument list, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
}

/** `KEY=value KEY2=value2` (ENV, ARG) as a map; quotes removed. */
export function keyValues(args: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const match of args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) map.set(match[1]!, match[2]!.replace(/^"|"$/g, ''));
  return map;
}
