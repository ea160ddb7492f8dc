import type { JsmSsoTenant } from '../common/config/load.js';
import type { Logger } from '../common/log.js';
import type { KubeClient } from './kube/client.js';
import { collectionPath, KINDS } from './kube/kinds.js';

/**
 * Kubernetes Events (events.k8s.io/v1) on a tenant, for `kubectl describe` and `kubectl events`.
 * Recording is best effort: a failed Event never fails a reconcile.
 */
export class EventRecorder {
  private readonly client: KubeClient;
  private readonly instance: string;
  private readonly logger: Logger;

  constructor(client: KubeClient, instance: string, logger: Logger) {
    this.client = client;
    this.instance = instance;
    this.logger = logger;
  }

  async record(
    tenant: JsmSsoTenant,
    type: 'Normal' | 'Warning',
    reason: string,
    note: string,
  ): Promise<void> {
    const { name, namespace, uid } = tenant.metadata!;
    const event = {
      apiVersion: KINDS.event.apiVersion,
      kind: 'Event',
      metadata: { generateName: `${name}-`, namespace },
      eventTime: new Date().toISOString().replace('Z', '000Z'),
      reportingController: 'jsm-sso.io/operator',
      reportingInstance: this.instance,
      action: 'Reconcile',
      type,
      reason,
      note: note.slice(0, 1024),
      regarding: { apiVersion: tenant.apiVersion, kind: tenant.kind, name, namespace, uid },
    };
    try {
      await this.client.create(collectionPath(KINDS.event, namespace), event);
    } catch (err) {
      this.logger.warn(
        { event: 'operator.event_failed', reason, err },
        'could not record a Kubernetes Event',
      );
    }
  }
}
