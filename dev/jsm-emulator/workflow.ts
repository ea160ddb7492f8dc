// The one workflow every emulated request type uses: JSM's "Service request" workflow as a
// customer sees it (status names, categories, and the transitions offered on the portal).

export type StatusCategory = 'NEW' | 'INDETERMINATE' | 'DONE';

export interface Status {
  name: string;
  category: StatusCategory;
}

export const STATUSES: readonly Status[] = [
  { name: 'Waiting for support', category: 'NEW' },
  { name: 'Waiting for approval', category: 'NEW' },
  { name: 'In progress', category: 'INDETERMINATE' },
  { name: 'Waiting for customer', category: 'INDETERMINATE' },
  { name: 'Resolved', category: 'DONE' },
  { name: 'Declined', category: 'DONE' },
  { name: 'Canceled', category: 'DONE' },
];

export interface Transition {
  id: string;
  name: string;
  from: readonly string[];
  to: string;
}

/** Customer-facing transitions (agents get the same list through the servicedeskapi). */
export const TRANSITIONS: readonly Transition[] = [
  {
    id: '761',
    name: 'Resolve this issue',
    from: ['Waiting for support', 'In progress', 'Waiting for customer'],
    to: 'Resolved',
  },
  { id: '781', name: 'Respond to support', from: ['Waiting for customer'], to: 'Waiting for support' },
  {
    id: '801',
    name: 'Cancel request',
    from: ['Waiting for support', 'Waiting for approval'],
    to: 'Canceled',
  },
  { id: '821', name: 'Reopen', from: ['Resolved'], to: 'Waiting for support' },
];

export function statusNamed(name: string): Status {
  const status = STATUSES.find((s) => s.name === name);
  if (!status) throw new Error(`unknown status ${JSON.stringify(name)}`);
  return status;
}

/**
 * The transitions offered from `status`: the default workflow's, or `workflow` (an emulator's own,
 * `EmulatorState.workflow`: tests may add a step, say one that leads back to where it starts, as
 * Jira workflows allow).
 */
export function transitionsFrom(status: string, workflow: readonly Transition[] = TRANSITIONS): Transition[] {
  return workflow.filter((t) => t.from.includes(status));
}

/** Jira's statusCategory key, as the platform API (and JQL `statusCategory`) names it. */
export function platformCategory(category: StatusCategory): {
  id: number;
  key: string;
  name: string;
  colorName: string;
} {
  if (category === 'NEW') return { id: 2, key: 'new', name: 'To Do', colorName: 'blue-gray' };
  if (category === 'INDETERMINATE')
    return { id: 4, key: 'indeterminate', name: 'In Progress', colorName: 'yellow' };
  return { id: 3, key: 'done', name: 'Done', colorName: 'green' };
}
