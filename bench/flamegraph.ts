// A V8 CPU profile (`node --cpu-prof`) as a flame graph SVG: one box per call path, its width the
// share of samples in which that path was on the stack. Samples are counted, not weighted by their
// wall-clock gaps: on a loaded machine a gap is time the thread was descheduled, not CPU.
import { readFileSync, writeFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds of the monotonic clock (process.hrtime's), and each sample's gap from the one before. */
  startTime: number;
  timeDeltas: number[];
}
interface Box {
  label: string;
  samples: number;
  children: Map<string, Box>;
}

const WIDTH = 1200;
const ROW = 16;

/** Frames of start-up (module loading, config compilation): left out, the graph is about sign-ins. */
const STARTUP = /runPart|module_job|modules\/esm|modules\/cjs/;

/** The stack (outermost first) of every sample in which the thread worked on sign-ins. */
function workStacks(profile: CpuProfile): CallFrame[][] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stacks: CallFrame[][] = [];
  for (const id of profile.samples) {
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      stack.push(byId.get(at)!.callFrame);
    stack.reverse().shift(); // (root)
    const leaf = stack.at(-1)?.functionName;
    if (leaf === '(idle)' || leaf === '(program)') continue;
    if (stack.some((frame) => STARTUP.test(frame.functionName + frame.url))) continue;
    stacks.push(stack);
  }
  return stacks;
}

/** The profile with only the samples taken from `fromUs` (process.hrtime's clock, in µs) on. */
export function samplesFrom(profile: CpuProfile, fromUs: number): CpuProfile {
  const samples: number[] = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i]!;
    if (at >= fromUs) samples.push(id);
  });
  return { ...profile, samples, timeDeltas: [] };
}

/** For each named pattern, the share of working samples with a matching frame on the stack. */
export function sharesOf(profile: CpuProfile, patterns: Record<string, RegExp>): Record<string, number> {
  const stacks = workStacks(profile);
  return Object.fromEntries(
    Object.entries(patterns).map(([name, pattern]) => [
      name,
      stacks.filter((stack) => stack.some((frame) => pattern.test(labelOf(frame)))).length / stacks.length,
    ]),
  );
}

export function flameGraphSvg(profile: CpuProfile, title: string): string {
  const root: Box = { label: 'all sign-in work', samples: 0, children: new Map() };
  for (const stack of workStacks(profile)) {
    root.samples++;
    let box = root;
    for (const frame of stack) {
      const label = labelOf(frame);
      let next = box.children.get(label);
      if (!next) {
        next = { label, samples: 0, children: new Map() };
        box.children.set(label, next);
      }
      next.samples++;
      box = next;
    }
  }
  const rects: string[] = [];
  let depth = 0;
  const draw = (box: Box, x: number, level: number) => {
    depth = Math.max(depth, level);
    const width = (box.samples / root.samples) * WIDTH;
    if (width < 1) return;
    const share = ((100 * box.samples) / root.samples).toFixed(1);
    const text =
      width > 60
        ? `<text x="${x + 3}" y="${level * ROW + 12}">${escapeXml(clip(box.label, width))}</text>`
        : '';
    rects.push(
      `<g><title>${escapeXml(box.label)} (${share}% of samples)</title><rect x="${x.toFixed(1)}" y="${level * ROW}" width="${width.toFixed(1)}" height="${ROW - 1}" fill="${colour(box.label)}"/>${text}</g>`,
    );
    let childX = x;
    for (const child of [...box.children.values()].sort((a, b) => b.samples - a.samples)) {
      draw(child, childX, level + 1);
      childX += (child.samples / root.samples) * WIDTH;
    }
  };
  draw(root, 0, 1);
  const height = (depth + 2) * ROW;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">`,
    `<text x="3" y="12">${escapeXml(title)} — ${root.samples} samples</text>`,
    ...rects,
    '</svg>\n',
  ].join('\n');
}

function labelOf(frame: CallFrame): string {
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, '');
  return `${frame.functionName || '(anonymous)'} ${file}${file ? `:${frame.lineNumber + 1}` : ''}`;
}

/** Ours orange, dependencies green, Node's internals blue, the rest (GC, native) grey. */
function colour(label: string): string {
  if (/ (broker|common|portal)\//.test(label)) return '#f4a460';
  if (/ node:/.test(label)) return '#87b5e0';
  if (/\.js:\d+$/.test(label)) return '#9acd7a';
  return '#c8c8c8';
}

function clip(label: string, width: number): string {
  const chars = Math.floor((width - 6) / 6.6);
  return label.length <= chars ? label : `${label.slice(0, Math.max(0, chars - 1))}…`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

if (process.argv[1]?.endsWith('flamegraph.ts')) {
  const [input, output, title] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node --import tsx bench/flamegraph.ts PROFILE.cpuprofile OUT.svg [TITLE]');
    process.exit(2);
  }
  writeFileSync(output, flameGraphSvg(JSON.parse(readFileSync(input, 'utf8')) as CpuProfile, title ?? input));
}
