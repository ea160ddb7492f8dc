import { checkStoredTenant, type JsmSsoTenant } from '../common/config/load.js';
import { ConfigError } from '../common/errors.js';
import { keyedHash } from './hash-key.js';
import { tenantDocumentBase64 } from './resources/projection.js';
import type { ConditionInput } from './status.js';

/**
 * The verdict of validating a tenant's spec, remembered per tenant uid for the generation it was
 * given. Validation (structural schema, defaults, every CEL rule) reads only the spec and the
 * immutable name, and the API server moves metadata.generation with every change of the spec, so
 * an unchanged tenant (a resync, its own status write, a label added) is not validated again: that
 * was most of the CPU of a resync, ~5 ms per tenant. What depends on Secrets (a missing key, a
 * certificate) is not part of this verdict: the reconcile checks it against the Secrets' facts every
 * time. A new generation, or another tenant of the same name (a new uid), is validated afresh.
 */
export interface Validation {
  /** The validated tenant (defaults applied, unknown fields pruned) when valid. */
  tenant?: JsmSsoTenant;
  ignoredFields: string[];
  condition: ConditionInput;
  /** tenantDocument(tenant) in base64, as a projection's `tenant.yaml` holds it (made once per call of validate). */
  document(): string;
  /**
   * keyedHash of document(), as SecretReader hashes the projection's `tenant.yaml` (ADR 0315),
   * remembered with the verdict: a resync compares it without making the YAML.
   */
  documentHash(): string;
}

interface Verdict {
  generation: number;
  ignoredFields: string[];
  condition: ConditionInput;
  valid: boolean;
  /**
   * The spec as validation left it, kept only when that differs from the stored one (a default this
   * version knows and the installed CRD does not, a pruned field); otherwise the live spec is used,
   * so a verdict costs no second copy of the tenant.
   */
  spec?: JsmSsoTenant['spec'];
  documentHash?: string;
}

export class TenantVerdicts {
  private readonly verdicts = new Map<string, Verdict>();
  private readonly hashKey: Buffer;

  /** `hashKey`: the operator's (ControllerOptions.hashKey). */
  constructor(hashKey: Buffer) {
    this.hashKey = hashKey;
  }

  /** Number of tenants whose verdict is held (it follows the tenants: see `forget`). */
  get size(): number {
    return this.verdicts.size;
  }

  validate(live: JsmSsoTenant): Validation {
    const uid = live.metadata?.uid ?? '';
    const generation = (live.metadata?.generation as number | undefined) ?? 0;
    let verdict = this.verdicts.get(uid);
    if (!verdict || verdict.generation !== generation) {
      verdict = judge(live, generation);
      // A tenant without a uid (never so from the API server) is judged each time.
      if (uid) this.verdicts.set(uid, verdict);
    }
    const judged = verdict;
    const tenant = judged.valid ? withSpec(live, judged.spec ?? live.spec) : undefined;
    let document: string | undefined;
    const made = () => {
      if (!tenant) throw new Error('a tenant document is made only of a valid tenant');
      document ??= tenantDocumentBase64(tenant);
      return document;
    };
    return {
      ...(tenant ? { tenant } : {}),
      ignoredFields: judged.ignoredFields,
      condition: judged.condition,
      document: made,
      documentHash: () => {
        judged.documentHash ??= keyedHash(this.hashKey, made());
        return judged.documentHash;
      },
    };
  }

  /** The tenant is gone: its verdict goes too, so memory follows the tenants. */
  forget(uid: string): void {
    this.verdicts.delete(uid);
  }
}

/** The live tenant without its status, with `spec`: metadata stays the live one (finalizers move). */
function withSpec(live: JsmSsoTenant, spec: JsmSsoTenant['spec']): JsmSsoTenant {
  const { status: _status, ...rest } = live;
  return { ...rest, spec };
}

function judge(live: JsmSsoTenant, generation: number): Verdict {
  const { status: _status, ...document } = structuredClone(live);
  const { managedFields: _managed, ...metadata } = document.metadata ?? { name: '' };
  try {
    const { tenant, ignoredFields } = checkStoredTenant({ ...document, metadata });
    // Not a problem of the tenant: the installed CRD knows these fields, this operator does not yet.
    const ignored = ignoredFields.length
      ? `; ignored fields this operator version does not know (UnknownFieldsIgnored; a newer CRD than operator, as during an upgrade): ${ignoredFields.join(', ')}`
      : '';
    const changed = JSON.stringify(tenant.spec) !== JSON.stringify(live.spec);
    return {
      generation,
      valid: true,
      ignoredFields,
      condition: { status: 'True', reason: 'Valid', message: `the configuration is valid${ignored}` },
      ...(changed ? { spec: tenant.spec } : {}),
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const cel = err.problems.some((p) => p.code === 'MAPPING_INVALID');
    return {
      generation,
      valid: false,
      ignoredFields: [],
      condition: {
        status: 'False',
        reason: cel ? 'MappingInvalid' : 'SchemaInvalid',
        message: `fix these fields: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      },
    };
  }
}
