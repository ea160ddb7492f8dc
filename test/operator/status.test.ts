import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import { expect } from 'chai';
import {
  appliedCondition,
  computeStatus,
  deploymentCondition,
  deploymentsWithheld,
} from '../../operator/status.js';

/** The tenant's status as computed from what the reconcile observed (operator/status.ts). */
describe('operator: tenant status from observations', () => {
  const now = new Date('2026-12-03T06:00:00Z');
  const serving = {
    status: 'True',
    reason: 'MinimumReplicasAvailable',
    message: '1/1 pods available',
  } as const;
  const reasonOf = (conditions: { type: string; reason: string }[] | undefined, type: string) =>
    conditions?.find((c) => c.type === type)?.reason;

  it('says a part whose Deployment does not exist yet is DeploymentMissing, Unknown', () => {
    expect(deploymentCondition('Broker', undefined, 'see the pods')).to.deep.include({
      status: 'Unknown',
      reason: 'DeploymentMissing',
    });
  });

  it('says a part whose Deployment is withheld for a projection is False with the reason, naming the condition that says which Secret', () => {
    const withheld = deploymentsWithheld(
      { status: 'False', reason: 'SecretNotReferable', message: 'Secret x is a projection …' },
      'ConfigValid',
    );
    const condition = deploymentCondition('Portal', undefined, 'see the pods', withheld);
    expect(condition).to.deep.include({ status: 'False', reason: 'SecretNotReferable' });
    expect(condition.message)
      .to.contain('portal Deployment is not run')
      .and.contain('ConfigValid says which');
    // Still running (its deletion refused, ADR 0335): the Deployment itself is told.
    expect(deploymentCondition('Portal', { status: {} }, 'see the pods', withheld).reason).to.equal(
      'PodsUnavailable',
    );
  });

  describe('a Deployment whose pods the API server refuses (ReplicaFailure FailedCreate)', () => {
    const refusal = {
      type: 'ReplicaFailure',
      status: 'True',
      reason: 'FailedCreate',
      message: 'pods "acme-broker-5d8f9c7b4-" is forbidden: exceeded quota: tenant-quota',
    };
    const deployment = (availableReplicas: number, conditions: V1DeploymentCondition[]) =>
      ({
        metadata: { generation: 2 },
        spec: { replicas: 3 },
        status: { observedGeneration: 2, availableReplicas, conditions: [...conditions, refusal] },
      }) as V1Deployment;

    it('says a part with none available FailedCreate, False, in the API server’s words', () => {
      const condition = deploymentCondition(
        'Broker',
        deployment(0, [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }]),
        'see the pods',
      );
      expect(condition).to.include({ status: 'False', reason: 'FailedCreate' });
      expect(condition.message).to.include('0/3 broker pods available').and.include(refusal.message);
    });

    it('keeps a part with pods available True, its message carrying the refusal (a scale-up refused)', () => {
      const condition = deploymentCondition(
        'Broker',
        deployment(2, [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }]),
        'see the pods',
      );
      expect(condition).to.include({ status: 'True', reason: 'MinimumReplicasAvailable' });
      expect(condition.message).to.include('2/3 broker pods available').and.include(refusal.message);
    });

    it('says a stalled rollout ProgressDeadlineExceeded, with the refusal as its cause', () => {
      const condition = deploymentCondition(
        'Broker',
        deployment(3, [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
        ]),
        'see the pods',
      );
      expect(condition).to.include({ status: 'False', reason: 'ProgressDeadlineExceeded' });
      expect(condition.message).to.include(refusal.message);
    });
  });

  it('is Ready with AllComponentsReady when the configuration, the apply and both parts are', () => {
    const { conditions } = computeStatus(
      undefined,
      {
        generation: 1,
        configValid: { status: 'True', reason: 'Valid', message: 'the configuration is valid' },
        applied: appliedCondition(true, undefined),
        broker: serving,
        portal: serving,
      },
      now,
    );
    expect(reasonOf(conditions, 'Applied')).to.equal('ObjectsApplied');
    expect(reasonOf(conditions, 'Ready')).to.equal('AllComponentsReady');
  });

  it('applies nothing while the configuration is invalid: Applied Unknown and Ready False, both ConfigInvalid', () => {
    const { conditions } = computeStatus(
      undefined,
      {
        generation: 2,
        configValid: { status: 'False', reason: 'SchemaInvalid', message: 'fix these fields' },
        applied: appliedCondition(false, undefined),
        broker: serving,
        portal: serving,
      },
      now,
    );
    expect(conditions?.find((c) => c.type === 'Applied')).to.include({
      status: 'Unknown',
      reason: 'ConfigInvalid',
    });
    expect(conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'ConfigInvalid',
    });
  });
});
