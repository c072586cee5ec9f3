// Negative cases of the manifest checks: each mutation breaks one rule in a good rendering, and the check must
// reject the result with the expected message. If a check stops working, its mutation passes and the run fails.

const deployment = (docs) => docs.find((d) => d.obj.kind === 'Deployment').obj;
const container = (docs) => deployment(docs).spec.template.spec.containers[0];
const env = (docs, name) => container(docs).env.find((e) => e.name === name);
const kind = (docs, k) => docs.find((d) => d.obj.kind === k).obj;
const policy = (docs) => kind(docs, 'NetworkPolicy');
/** The ingress rule of the policy that admits the named container port (by number). */
const ruleFor = (docs, name) => {
  const port = container(docs).ports.find((p) => p.name === name).containerPort;
  return policy(docs).spec.ingress.find((r) => r.ports.some((p) => p.port === port));
};
const volumeMount = (docs, path) => container(docs).volumeMounts.find((m) => m.mountPath === path);
const volume = (docs, name) => deployment(docs).spec.template.spec.volumes.find((v) => v.name === name);

/**
 * { name, expect (substring of a problem), docs(docs) mutating parsed objects | text(manifests) mutating text,
 *   baseline (optional): the ci/ file whose rendering is mutated, default-values.yaml when absent }
 */
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
  // The Service: REST only, no Orleans gateway.
  {
    name: 'Service exposing the gateway again',
    expect: 'exposes the Orleans gateway port',
    docs: (d) => { kind(d, 'Service').spec.ports.push({ name: 'gateway', port: 30000, targetPort: 'gateway', protocol: 'TCP' }); },
  },
  {
    name: 'Service exposing the gateway by number',
    expect: 'exposes the Orleans gateway port',
    docs: (d) => { kind(d, 'Service').spec.ports.push({ name: 'orleans', port: 30000, targetPort: 30000, protocol: 'TCP' }); },
  },
  // The NetworkPolicy.
  {
    name: 'NetworkPolicy missing',
    expect: 'networkPolicy.enabled is true but no NetworkPolicy is rendered',
    docs: (d) => { d.splice(d.findIndex((x) => x.obj.kind === 'NetworkPolicy'), 1); },
  },
  {
    name: 'NetworkPolicy selecting other pods',
    expect: 'does not select exactly the Deployment\'s pods',
    docs: (d) => { policy(d).spec.podSelector.matchLabels['app.kubernetes.io/instance'] = 'other'; },
  },
  {
    name: 'NetworkPolicy selecting every pod of the namespace',
    expect: 'does not select exactly the Deployment\'s pods',
    docs: (d) => { policy(d).spec.podSelector = {}; },
  },
  {
    name: 'NetworkPolicy in another namespace',
    expect: 'expected the release namespace "data"',
    docs: (d) => { policy(d).metadata.namespace = 'default'; },
  },
  {
    name: 'silo and gateway ports open to any source',
    expect: 'admits the silo port (11111) from anywhere',
    docs: (d) => { delete ruleFor(d, 'silo').from; },
  },
  {
    name: 'silo port admitted from silos of every namespace',
    expect: 'admits the silo port (11111) from {"namespaceSelector":{},"podSelector"',
    docs: (d) => { ruleFor(d, 'silo').from[0].namespaceSelector = {}; },
  },
  {
    name: 'silo port admitted from pods of other releases',
    expect: 'admits the silo port (11111) from {"podSelector":{"matchLabels":{"app.kubernetes.io/name":"saiki"}}}',
    docs: (d) => { policy(d).spec.ingress.push({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'saiki' } } }], ports: [{ port: 'silo', protocol: 'TCP' }] }); },
  },
  {
    name: 'gateway port open to any source',
    expect: 'admits the gateway port (30000) from anywhere',
    docs: (d) => { policy(d).spec.ingress.push({ ports: [{ port: 30000, protocol: 'TCP' }] }); },
  },
  {
    name: 'gateway port admitted from an address range',
    expect: 'admits the gateway port (30000) from {"ipBlock":{"cidr":"10.0.0.0/8"}}',
    docs: (d) => { policy(d).spec.ingress.push({ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 29000, endPort: 31000, protocol: 'TCP' }] }); },
  },
  {
    name: 'http rule widened to every port',
    expect: 'admits the gateway port (30000) from anywhere',
    docs: (d) => { delete ruleFor(d, 'http').ports; },
  },
  {
    name: 'silo port not admitted from the silos',
    expect: 'does not admit the silo port (11111) from the release\'s own silo pods',
    docs: (d) => { const r = ruleFor(d, 'silo'); r.ports = r.ports.filter((p) => p.port !== 11111); },
  },
  {
    name: 'http port not admitted',
    expect: 'does not admit the http port (8080)',
    docs: (d) => { const p = policy(d); p.spec.ingress = p.spec.ingress.filter((r) => !r.ports.some((x) => x.port === 8080)); },
  },
  {
    name: 'http port restricted although networkPolicy.httpFrom is empty',
    expect: 'admits the http port (8080) from [{"podSelector":{}}], expected networkPolicy.httpFrom (anywhere)',
    docs: (d) => { ruleFor(d, 'http').from = [{ podSelector: {} }]; },
  },
  {
    name: 'http port open although networkPolicy.httpFrom is set',
    baseline: 'production-values.yaml',
    expect: 'admits the http port (8080) from anywhere, expected networkPolicy.httpFrom ([{"namespaceSelector"',
    docs: (d) => { delete ruleFor(d, 'http').from; },
  },
  {
    name: 'egress restricted',
    expect: 'expected ["Ingress"]',
    docs: (d) => { policy(d).spec.policyTypes.push('Egress'); },
  },
  // Mutual TLS (production-values.yaml enables it).
  {
    name: 'TLS settings without tls.enabled',
    expect: 'Saiki__Silo__Tls__CertificatePath, Saiki__Silo__Tls__KeyPath, Saiki__Silo__Tls__CaPath set although tls.enabled is false',
    docs: (d) => {
      Object.assign(kind(d, 'ConfigMap').data, {
        Saiki__Silo__Tls__CertificatePath: '/etc/saiki/tls/tls.crt', Saiki__Silo__Tls__KeyPath: '/etc/saiki/tls/tls.key', Saiki__Silo__Tls__CaPath: '/etc/saiki/tls/ca.crt',
      });
    },
  },
  {
    name: 'TLS CA setting missing',
    baseline: 'production-values.yaml',
    expect: 'TLS: Saiki__Silo__Tls__CaPath is not set',
    docs: (d) => { delete kind(d, 'ConfigMap').data.Saiki__Silo__Tls__CaPath; },
  },
  {
    name: 'TLS key outside the mounted Secret',
    baseline: 'production-values.yaml',
    expect: 'Saiki__Silo__Tls__KeyPath is "/tmp/tls.key", expected /etc/saiki/tls/tls.key',
    docs: (d) => { kind(d, 'ConfigMap').data.Saiki__Silo__Tls__KeyPath = '/tmp/tls.key'; },
  },
  {
    name: 'TLS volume not mounted',
    baseline: 'production-values.yaml',
    expect: 'TLS: no volume is mounted at /etc/saiki/tls',
    docs: (d) => { const c = container(d); c.volumeMounts = c.volumeMounts.filter((m) => m.mountPath !== '/etc/saiki/tls'); },
  },
  {
    name: 'TLS volume mounted writable',
    baseline: 'production-values.yaml',
    expect: 'TLS: the volume at /etc/saiki/tls must be mounted readOnly',
    docs: (d) => { volumeMount(d, '/etc/saiki/tls').readOnly = false; },
  },
  {
    name: 'TLS volume from another Secret',
    baseline: 'production-values.yaml',
    expect: 'TLS: is "saiki-secrets", expected tls.secretName "saiki-silo-tls"',
    docs: (d) => { volume(d, volumeMount(d, '/etc/saiki/tls').name).secret.secretName = 'saiki-secrets'; },
  },
  {
    name: 'TLS volume that is not a Secret',
    baseline: 'production-values.yaml',
    expect: 'TLS: the volume at /etc/saiki/tls must be a secret volume',
    docs: (d) => { const v = volume(d, volumeMount(d, '/etc/saiki/tls').name); delete v.secret; v.emptyDir = {}; },
  },
  {
    name: 'TLS private key world-readable',
    baseline: 'production-values.yaml',
    expect: 'TLS: 0644 makes the private key world-readable',
    docs: (d) => { volume(d, volumeMount(d, '/etc/saiki/tls').name).secret.defaultMode = 0o644; },
  },
  {
    name: 'TLS CA not projected',
    baseline: 'production-values.yaml',
    expect: 'TLS: key ca.crt is not projected',
    docs: (d) => { const s = volume(d, volumeMount(d, '/etc/saiki/tls').name).secret; s.items = s.items.filter((i) => i.key !== 'ca.crt'); },
  },
  // Open writes only by explicit choice.
  {
    name: 'no token without api.allowOpenWrites',
    expect: 'writes would be open to anyone who reaches the HTTP port',
    docs: (d) => { const c = container(d); c.env = c.env.filter((e) => !/^Saiki__Api__(WriteTokens|OperatorTokens)__/.test(e.name)); },
  },
  {
    name: 'Saiki__Api__AllowOpenWrites without api.allowOpenWrites',
    expect: 'Saiki__Api__AllowOpenWrites is set although api.allowOpenWrites is false',
    docs: (d) => { kind(d, 'ConfigMap').data.Saiki__Api__AllowOpenWrites = 'true'; },
  },
  {
    name: 'api.allowOpenWrites without Saiki__Api__AllowOpenWrites',
    baseline: 'open-writes-values.yaml',
    expect: 'Saiki__Api__AllowOpenWrites is not "true": the silo would refuse open writes',
    docs: (d) => { delete kind(d, 'ConfigMap').data.Saiki__Api__AllowOpenWrites; },
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
