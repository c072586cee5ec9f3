// Negative cases of the manifest checks: each mutation breaks one rule in a good rendering, and the check must
// reject the result with the expected message. If a check stops working, its mutation passes and the run fails.

const deployment = (docs) => docs.find((d) => d.obj.kind === 'Deployment').obj;
const container = (docs) => deployment(docs).spec.template.spec.containers[0];
const env = (docs, name) => container(docs).env.find((e) => e.name === name);
const kind = (docs, k) => docs.find((d) => d.obj.kind === k).obj;

/** { name, expect (substring of a problem), docs(docs) mutating parsed objects | text(manifests) mutating text } */
export const MUTATIONS = [
  {
    name: 'duplicate env var in env',
    expect: 'environment variable "POD_NAMESPACE" is set twice',
    docs: (d) => container(d).env.push({ name: 'POD_NAMESPACE', value: 'data' }),
  },
  {
    name: 'env var repeating a ConfigMap key',
    expect: 'environment variable "Saiki__Lake__Prefix" is set twice',
    docs: (d) => container(d).env.push({ name: 'Saiki__Lake__Prefix', value: 'other' }),
  },
  {
    name: 'unknown container field',
    expect: 'unknown field "readinessprobe"',
    docs: (d) => { container(d).readinessprobe = container(d).readinessProbe; },
  },
  {
    name: 'unknown field deeper in the pod spec',
    expect: 'unknown field "runAsNonroot"',
    docs: (d) => { deployment(d).spec.template.spec.securityContext.runAsNonroot = true; },
  },
  {
    name: 'secretKeyRef to a key the Secret lacks',
    expect: 'key "postgres-conection" is not in the rendered Secret',
    docs: (d) => { env(d, 'Saiki__Cluster__ConnectionString').valueFrom.secretKeyRef.key = 'postgres-conection'; },
  },
  {
    name: 'secret setting in plain text',
    expect: 'a secret setting must come from a secretKeyRef',
    docs: (d) => { const e = env(d, 'Saiki__Cluster__ConnectionString'); delete e.valueFrom; e.value = 'Host=db'; },
  },
  {
    name: 'probe on a numeric port',
    expect: 'readinessProbe.httpGet.port: is 8080, expected the named port "http"',
    docs: (d) => { container(d).readinessProbe.httpGet.port = 8080; },
  },
  {
    name: 'probe on the wrong path',
    expect: 'livenessProbe.httpGet.path: is "/healthz/ready", expected /healthz/live',
    docs: (d) => { container(d).livenessProbe.httpGet.path = '/healthz/ready'; },
  },
  {
    name: 'selector not matching the pod labels',
    expect: 'does not match the pod template labels',
    docs: (d) => { deployment(d).spec.template.metadata.labels['app.kubernetes.io/component'] = 'worker'; },
  },
  {
    name: 'HPA targeting another Deployment',
    expect: 'is not the Deployment apps/v1/Deployment/saiki',
    docs: (d) => { kind(d, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'saiki-old'; },
  },
  {
    name: 'replicas set next to an HPA',
    expect: 'must be unset when a HorizontalPodAutoscaler owns the replica count',
    docs: (d) => { deployment(d).spec.replicas = 3; },
  },
  {
    name: 'PDB selecting other pods',
    expect: 'differs from the Deployment\'s selector',
    docs: (d) => { kind(d, 'PodDisruptionBudget').spec.selector.matchLabels['app.kubernetes.io/instance'] = 'other'; },
  },
  {
    name: 'grace period not longer than the shutdown timeout',
    expect: 'terminationGracePeriodSeconds: 30 must be greater than Saiki__Silo__ShutdownTimeoutSeconds (30)',
    docs: (d) => { deployment(d).spec.template.spec.terminationGracePeriodSeconds = 30; },
  },
  {
    name: 'misspelt setting',
    expect: 'Saiki__Silo__ClusterID is not a setting the silo reads',
    docs: (d) => {
      const data = kind(d, 'ConfigMap').data;
      data.Saiki__Silo__ClusterID = data.Saiki__Silo__ClusterId;
      delete data.Saiki__Silo__ClusterId;
    },
  },
  {
    name: 'unquoted ConfigMap value',
    expect: 'data.Saiki__Cluster__ApplySchema: must be a string',
    docs: (d) => { kind(d, 'ConfigMap').data.Saiki__Cluster__ApplySchema = true; },
  },
  {
    name: 'writable root file system',
    expect: 'readOnlyRootFilesystem: must be true',
    docs: (d) => { container(d).securityContext.readOnlyRootFilesystem = false; },
  },
  {
    name: 'Service target port by number',
    expect: 'targetPort: must name a container port',
    docs: (d) => { kind(d, 'Service').spec.ports[0].targetPort = 8080; },
  },
  {
    name: 'RoleBinding to another ServiceAccount',
    expect: 'does not bind the pods\' ServiceAccount',
    docs: (d) => { kind(d, 'RoleBinding').subjects[0].name = 'default'; },
  },
  {
    name: 'Role granting writes',
    expect: 'only get, list and watch are granted',
    docs: (d) => { kind(d, 'Role').rules[0].verbs.push('delete'); },
  },
  {
    name: 'unknown apiVersion',
    expect: 'unknown apiVersion/kind "autoscaling/v2beta9"',
    docs: (d) => { kind(d, 'HorizontalPodAutoscaler').apiVersion = 'autoscaling/v2beta9'; },
  },
  {
    name: 'wrong type caught by the OpenAPI models',
    expect: 'spec.template.spec.containers[0].ports[0].containerPort: must be integer',
    docs: (d) => { container(d).ports[0].containerPort = '8080'; },
  },
  {
    name: 'duplicate key in rendered YAML',
    expect: 'Map keys must be unique',
    text: (m) => { const s = m.find((x) => x.source.endsWith('/service.yaml')); s.text = s.text.replace('  type: ClusterIP\n', '  type: ClusterIP\n  type: NodePort\n'); },
  },
  {
    name: 'broken indentation in rendered YAML',
    expect: 'rendered YAML does not parse',
    text: (m) => { const s = m.find((x) => x.source.endsWith('/pdb.yaml')); s.text = s.text.replace('  maxUnavailable:', '   maxUnavailable:'); },
  },
];
