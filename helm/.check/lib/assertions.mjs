// Structural assertions over one rendering of the chart: what schema validation of single objects cannot see
// (references between objects, and the contract with the silo's configuration).

/** Settings the silo reads (src/Silo, src/Grains options classes): the chart must always set these. */
export const REQUIRED_ENV = [
  'Urls',
  'Saiki__Silo__ClusterId',
  'Saiki__Silo__ServiceId',
  'Saiki__Silo__AdvertisedAddress',
  'Saiki__Silo__Name',
  'POD_NAMESPACE',
  'Saiki__Silo__SiloPort',
  'Saiki__Silo__GatewayPort',
  'Saiki__Silo__ShutdownTimeoutSeconds',
  'Saiki__Cluster__Kind',
  'Saiki__Cluster__ConnectionString',
  'Saiki__Cluster__ApplySchema',
  'Saiki__Lake__Kind',
  'Saiki__Lake__Prefix',
  'Saiki__Lake__S3__Bucket',
  'Saiki__Lake__S3__Region',
  'Saiki__Lake__S3__ForcePathStyle',
  'Saiki__Kafka__BootstrapServers',
  'Saiki__Kafka__TopicTemplate',
  'Saiki__Api__RequireTokenForReads',
];

/** Every Saiki setting the chart may set (beyond extraEnv); a name outside these is a typo the silo would ignore. */
const KNOWN_SAIKI_ENV = [
  /^Saiki__Silo__(ClusterId|ServiceId|AdvertisedAddress|Name|SiloPort|GatewayPort|ShutdownTimeoutSeconds)$/,
  /^Saiki__Silo__Tls__(CertificatePath|KeyPath|CaPath)$/,
  /^Saiki__Cluster__(Kind|ConnectionString|ApplySchema)$/,
  /^Saiki__Lake__(Kind|Prefix|Format)$/,
  /^Saiki__Lake__TableFormats__[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/,
  /^Saiki__Lake__S3__(Bucket|ServiceUrl|Region|ForcePathStyle|CreateBucket|AccessKey|SecretKey)$/,
  /^Saiki__Kafka__(BootstrapServers|TopicTemplate)$/,
  /^Saiki__Kafka__Producer__[a-z][a-z0-9_.]*$/,
  /^Saiki__Api__(WriteTokens|OperatorTokens|ReadTokens)__(0|[1-9][0-9]*)$/,
  /^Saiki__Api__(RequireTokenForReads|AllowOpenWrites)$/,
  /^Saiki__Privacy__HashKey$/,
];

/** Values that must come from the pod (downward API) or the Secret, never from plain text. */
const FIELD_REFS = { Saiki__Silo__AdvertisedAddress: 'status.podIP', Saiki__Silo__Name: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' };
const SECRET_ENV = [
  [/^Saiki__Cluster__ConnectionString$/, () => 'postgres-connection'],
  [/^Saiki__Lake__S3__AccessKey$/, () => 's3-access-key'],
  [/^Saiki__Lake__S3__SecretKey$/, () => 's3-secret-key'],
  [/^Saiki__Kafka__Producer__sasl\.password$/, () => 'kafka-sasl-password'],
  [/^Saiki__Api__WriteTokens__(\d+)$/, (m) => `api-write-token-${m[1]}`],
  [/^Saiki__Api__OperatorTokens__(\d+)$/, (m) => `api-operator-token-${m[1]}`],
  [/^Saiki__Api__ReadTokens__(\d+)$/, (m) => `api-read-token-${m[1]}`],
  [/^Saiki__Privacy__HashKey$/, () => 'privacy-hash-key'],
];

/** Mutual TLS: where the tls.secretName volume is mounted, and the file each setting names (Secret key = file). */
const TLS_MOUNT = '/etc/saiki/tls';
const TLS_ENV = { Saiki__Silo__Tls__CertificatePath: 'tls.crt', Saiki__Silo__Tls__KeyPath: 'tls.key', Saiki__Silo__Tls__CaPath: 'ca.crt' };
const TOKEN_ENV = /^Saiki__Api__(WriteTokens|OperatorTokens)__(0|[1-9][0-9]*)$/;

const PROBES = { startupProbe: '/healthz/live', livenessProbe: '/healthz/live', readinessProbe: '/healthz/ready' };
const NAMESPACED = new Set(['NetworkPolicy', 'Deployment', 'Service', 'ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
const REQUIRED_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/component'];
const SELECTOR_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'];
const LABEL_KEY = /^(([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const isSubset = (small, big) => Object.entries(small ?? {}).every(([k, v]) => big?.[k] === v);
const sameMap = (a, b) => isSubset(a, b) && isSubset(b, a);
/** JSON with sorted keys, to compare objects regardless of key order. */
const canonical = (v) => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/**
 * Checks one rendering. ctx: { namespace, existingSecret, extraEnvNames: Set, allowOpenWrites,
 * networkPolicy: { enabled, httpFrom }, tls: { enabled, secretName } } (the last three from the values).
 * Returns problems, each "template: Kind/name: field: message".
 */
export function assertManifests(docs, ctx) {
  const problems = [];
  const where = (d) => `${d.source}: ${d.obj?.kind}/${d.obj?.metadata?.name}`;
  const fail = (d, field, msg) => problems.push(`${where(d)}: ${field}: ${msg}`);
  const byKind = (kind) => docs.filter((d) => d.obj.kind === kind);
  const find = (kind, name) => docs.find((d) => d.obj.kind === kind && d.obj.metadata?.name === name);

  // Every object: a valid name, the namespace, the standard labels; no duplicates.
  const seen = new Set();
  for (const d of docs) {
    const { kind, metadata } = d.obj;
    const id = `${kind}/${metadata?.name}`;
    if (seen.has(id)) fail(d, 'metadata.name', `duplicate ${id}`);
    seen.add(id);
    if (!metadata?.name || !DNS_SUBDOMAIN.test(metadata.name) || metadata.name.length > 253) fail(d, 'metadata.name', `"${metadata?.name}" is not a valid name`);
    if (NAMESPACED.has(kind) && metadata?.namespace !== ctx.namespace) fail(d, 'metadata.namespace', `is "${metadata?.namespace}", expected the release namespace "${ctx.namespace}"`);
    for (const l of REQUIRED_LABELS) if (!metadata?.labels?.[l]) fail(d, `metadata.labels.${l}`, 'missing');
    if (metadata?.labels?.['app.kubernetes.io/component'] && metadata.labels['app.kubernetes.io/component'] !== 'silo') fail(d, 'metadata.labels.app.kubernetes.io/component', 'must be "silo"');
    for (const [k, v] of Object.entries(metadata?.labels ?? {})) {
      if (!LABEL_KEY.test(k)) fail(d, `metadata.labels.${k}`, 'invalid label key');
      if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) fail(d, `metadata.labels.${k}`, `invalid label value "${v}"`);
    }
  }

  const configMaps = new Map(byKind('ConfigMap').map((d) => [d.obj.metadata.name, d]));
  const secrets = new Map(byKind('Secret').map((d) => [d.obj.metadata.name, d]));
  for (const d of configMaps.values()) {
    for (const [k, v] of Object.entries(d.obj.data ?? {})) {
      if (!CONFIG_KEY.test(k)) fail(d, `data.${k}`, 'invalid ConfigMap key');
      if (typeof v !== 'string') fail(d, `data.${k}`, `must be a string, got ${typeof v} (quote it in the template)`);
    }
  }
  for (const d of secrets.values()) {
    for (const [k, v] of Object.entries(d.obj.data ?? {})) {
      if (!CONFIG_KEY.test(k)) fail(d, `data.${k}`, 'invalid Secret key');
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) fail(d, `data.${k}`, 'is not base64');
    }
  }

  const deployments = byKind('Deployment');
  if (deployments.length !== 1) problems.push(`expected exactly one Deployment, found ${deployments.length}`);
  for (const dep of deployments) {
    const spec = dep.obj.spec ?? {};
    const pod = spec.template ?? {};
    const podSpec = pod.spec ?? {};
    const podLabels = pod.metadata?.labels ?? {};
    const selector = spec.selector?.matchLabels ?? {};
    if (spec.selector?.matchExpressions) fail(dep, 'spec.selector.matchExpressions', 'not expected');
    if (!isSubset(selector, podLabels) || Object.keys(selector).length === 0) fail(dep, 'spec.selector.matchLabels', `${JSON.stringify(selector)} does not match the pod template labels ${JSON.stringify(podLabels)}`);
    const keys = Object.keys(selector).sort();
    if (keys.join(',') !== [...SELECTOR_LABELS].sort().join(',')) fail(dep, 'spec.selector.matchLabels', `must hold exactly ${SELECTOR_LABELS.join(', ')} (stable across upgrades; got ${keys.join(', ')})`);
    for (const l of REQUIRED_LABELS) if (!podLabels[l]) fail(dep, `spec.template.metadata.labels.${l}`, 'missing');

    const containers = podSpec.containers ?? [];
    if (containers.length !== 1) fail(dep, 'spec.template.spec.containers', `expected one container, found ${containers.length}`);
    const volumes = new Map((podSpec.volumes ?? []).map((v) => [v.name, v]));

    // Pod security.
    if (podSpec.securityContext?.runAsNonRoot !== true) fail(dep, 'spec.template.spec.securityContext.runAsNonRoot', 'must be true');

    for (const [ci, c] of containers.entries()) {
      const at = `spec.template.spec.containers[${ci}]`;
      const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      for (const name of ['http', 'silo', 'gateway']) if (!ports.has(name)) fail(dep, `${at}.ports`, `no port named "${name}"`);
      const portNumbers = (c.ports ?? []).map((p) => p.containerPort);
      if (new Set(portNumbers).size !== portNumbers.length) fail(dep, `${at}.ports`, `container ports repeat: ${portNumbers.join(', ')}`);

      // Environment: env entries plus every key of the envFrom sources, each name once.
      const env = new Map();
      const addEnv = (name, entry, field) => {
        if (!ENV_NAME.test(name)) fail(dep, field, `"${name}" is not a valid environment variable name`);
        if (env.has(name)) fail(dep, field, `environment variable "${name}" is set twice (${env.get(name).field} and ${field})`);
        else env.set(name, { ...entry, field });
      };
      for (const [fi, from] of (c.envFrom ?? []).entries()) {
        const field = `${at}.envFrom[${fi}]`;
        if (from.prefix) fail(dep, `${field}.prefix`, 'not expected');
        if (from.configMapRef) {
          const cm = configMaps.get(from.configMapRef.name);
          if (!cm) { fail(dep, `${field}.configMapRef.name`, `ConfigMap "${from.configMapRef.name}" is not rendered`); continue; }
          for (const [k, v] of Object.entries(cm.obj.data ?? {})) addEnv(k, { value: v, from: `ConfigMap ${cm.obj.metadata.name}` }, `${field} (ConfigMap ${cm.obj.metadata.name} key ${k})`);
        } else if (from.secretRef) {
          fail(dep, `${field}.secretRef`, 'secrets are referenced key by key (env valueFrom.secretKeyRef), not as a whole');
        }
      }
      for (const [ei, e] of (c.env ?? []).entries()) {
        const field = `${at}.env[${ei}] (${e.name})`;
        addEnv(e.name, { value: e.value, valueFrom: e.valueFrom, from: 'env' }, field);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const secret = secrets.get(ref.name);
          if (secret) {
            if (!Object.hasOwn(secret.obj.data ?? {}, ref.key) && !Object.hasOwn(secret.obj.stringData ?? {}, ref.key)) {
              fail(dep, `${field}.valueFrom.secretKeyRef`, `key "${ref.key}" is not in the rendered Secret "${ref.name}" (it has: ${Object.keys(secret.obj.data ?? {}).join(', ')})`);
            }
          } else if (!(ctx.existingSecret && ref.name === ctx.existingSecret)) {
            fail(dep, `${field}.valueFrom.secretKeyRef`, `Secret "${ref.name}" is neither rendered nor the existingSecret`);
          }
        }
        const cmRef = e.valueFrom?.configMapKeyRef;
        if (cmRef && !Object.hasOwn(configMaps.get(cmRef.name)?.obj.data ?? {}, cmRef.key)) {
          fail(dep, `${field}.valueFrom.configMapKeyRef`, `key "${cmRef.key}" is not in a rendered ConfigMap "${cmRef.name}"`);
        }
      }

      // The contract with the silo's configuration.
      for (const name of REQUIRED_ENV) if (!env.has(name)) fail(dep, `${at}.env`, `required setting ${name} is not set`);
      for (const [name, e] of env) {
        if (name.startsWith('Saiki__') && !ctx.extraEnvNames.has(name) && !KNOWN_SAIKI_ENV.some((re) => re.test(name))) {
          fail(dep, e.field, `${name} is not a setting the silo reads (typo?)`);
        }
      }
      for (const [name, path] of Object.entries(FIELD_REFS)) {
        const e = env.get(name);
        if (e && e.valueFrom?.fieldRef?.fieldPath !== path) fail(dep, e.field, `must come from the downward API fieldRef ${path}`);
      }
      for (const [name, e] of env) {
        for (const [re, keyOf] of SECRET_ENV) {
          const m = re.exec(name);
          if (!m) continue;
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) fail(dep, e.field, 'a secret setting must come from a secretKeyRef, not plain text');
          else if (ref.key !== keyOf(m)) fail(dep, e.field, `expected Secret key "${keyOf(m)}", got "${ref.key}"`);
        }
      }
      const plain = (name) => env.get(name)?.value;
      const expectPlain = (name, ok, what) => {
        const v = plain(name);
        if (env.has(name) && !ok(v)) fail(dep, env.get(name).field, `${name} is "${v}", expected ${what}`);
      };
      expectPlain('Urls', (v) => v === `http://0.0.0.0:${ports.get('http')}`, `http://0.0.0.0:${ports.get('http')} (the http container port)`);
      expectPlain('Saiki__Silo__ClusterId', (v) => v === dep.obj.metadata.name, `the release full name "${dep.obj.metadata.name}"`);
      expectPlain('Saiki__Silo__ServiceId', (v) => typeof v === 'string' && v.trim() !== '', 'a non-empty id');
      expectPlain('Saiki__Silo__SiloPort', (v) => v === String(ports.get('silo')), `the silo container port ${ports.get('silo')}`);
      expectPlain('Saiki__Silo__GatewayPort', (v) => v === String(ports.get('gateway')), `the gateway container port ${ports.get('gateway')}`);
      expectPlain('Saiki__Silo__ShutdownTimeoutSeconds', (v) => /^[1-9][0-9]*$/.test(v ?? '') && Number(v) <= 3600, 'an integer of seconds, 1-3600');
      expectPlain('Saiki__Cluster__Kind', (v) => v === 'AdoNet', 'AdoNet');
      expectPlain('Saiki__Lake__Kind', (v) => v === 'S3', 'S3');
      for (const b of ['Saiki__Cluster__ApplySchema', 'Saiki__Lake__S3__ForcePathStyle', 'Saiki__Lake__S3__CreateBucket', 'Saiki__Api__RequireTokenForReads']) {
        expectPlain(b, (v) => v === 'true' || v === 'false', '"true" or "false"');
      }
      expectPlain('Saiki__Kafka__TopicTemplate', (v) => typeof v === 'string' && v.includes('{table}'), 'a template containing {table}');
      const aws = ['Saiki__Lake__S3__AccessKey', 'Saiki__Lake__S3__SecretKey'].filter((n) => env.has(n));
      if (aws.length === 1) fail(dep, `${at}.env`, `${aws[0]} without its pair: access key and secret key go together`);

      // Writes: a write or operator token, or open writes accepted explicitly (api.allowOpenWrites).
      const chartEnv = (name) => env.has(name) && !ctx.extraEnvNames.has(name);
      const tokens = [...env.keys()].filter((n) => TOKEN_ENV.test(n));
      const openWrites = env.get('Saiki__Api__AllowOpenWrites');
      expectPlain('Saiki__Api__AllowOpenWrites', (v) => v === 'true', '"true" (the chart sets it only when api.allowOpenWrites is true)');
      if (tokens.length === 0 && !ctx.allowOpenWrites) {
        fail(dep, `${at}.env`, 'no write or operator token (Saiki__Api__WriteTokens__<i>, Saiki__Api__OperatorTokens__<i>) and api.allowOpenWrites is false: writes would be open to anyone who reaches the HTTP port');
      }
      if (tokens.length === 0 && ctx.allowOpenWrites && openWrites?.value !== 'true') {
        fail(dep, `${at}.env`, 'api.allowOpenWrites is true and there is no token, but Saiki__Api__AllowOpenWrites is not "true": the silo would refuse open writes');
      }
      if (chartEnv('Saiki__Api__AllowOpenWrites') && !ctx.allowOpenWrites) fail(dep, openWrites.field, 'Saiki__Api__AllowOpenWrites is set although api.allowOpenWrites is false');

      // Mutual TLS: the three settings name the files of the tls.secretName volume, mounted read-only.
      const tlsSet = Object.keys(TLS_ENV).filter(chartEnv);
      if (tlsSet.length > 0 && !ctx.tls?.enabled) fail(dep, `${at}.env`, `${tlsSet.join(', ')} set although tls.enabled is false`);
      if (ctx.tls?.enabled || tlsSet.length > 0) {
        for (const [name, file] of Object.entries(TLS_ENV)) {
          if (!env.has(name)) fail(dep, `${at}.env`, `TLS: ${name} is not set (expected ${TLS_MOUNT}/${file})`);
          else if (plain(name) !== `${TLS_MOUNT}/${file}`) fail(dep, env.get(name).field, `${name} is "${plain(name)}", expected ${TLS_MOUNT}/${file} (key ${file} of the TLS Secret's volume)`);
        }
        const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === TLS_MOUNT);
        if (!mount) fail(dep, `${at}.volumeMounts`, `TLS: no volume is mounted at ${TLS_MOUNT}`);
        else {
          const mat = `${at}.volumeMounts (${mount.name})`;
          if (mount.readOnly !== true) fail(dep, mat, `TLS: the volume at ${TLS_MOUNT} must be mounted readOnly`);
          if (mount.subPath || mount.subPathExpr) fail(dep, mat, 'TLS: no subPath (the files would not follow a renewed Secret)');
          const secret = volumes.get(mount.name)?.secret;
          const vat = `spec.template.spec.volumes (${mount.name})`;
          if (!secret) fail(dep, vat, `TLS: the volume at ${TLS_MOUNT} must be a secret volume`);
          else {
            if (ctx.tls?.enabled && secret.secretName !== ctx.tls.secretName) fail(dep, `${vat}.secret.secretName`, `TLS: is "${secret.secretName}", expected tls.secretName "${ctx.tls.secretName}"`);
            if (secret.optional) fail(dep, `${vat}.secret.optional`, 'TLS: the Secret must not be optional (the silos would start without their certificate)');
            if (((secret.defaultMode ?? 0o644) & 0o007) !== 0) fail(dep, `${vat}.secret.defaultMode`, `TLS: 0${(secret.defaultMode ?? 0o644).toString(8)} makes the private key world-readable`);
            for (const file of Object.values(TLS_ENV)) {
              const item = secret.items?.find((x) => x.key === file);
              if (secret.items && !item) fail(dep, `${vat}.secret.items`, `TLS: key ${file} is not projected`);
              else if (item && (item.path !== file || (item.mode ?? 0) & 0o007)) fail(dep, `${vat}.secret.items`, `TLS: key ${file} must be projected as ${file} and not world-readable`);
            }
          }
        }
      }

      // Graceful hand-over: Kubernetes must not kill the pod before the host's shutdown timeout ends.
      const grace = podSpec.terminationGracePeriodSeconds;
      const shutdown = Number(plain('Saiki__Silo__ShutdownTimeoutSeconds'));
      if (!Number.isInteger(grace)) fail(dep, 'spec.template.spec.terminationGracePeriodSeconds', 'must be set');
      else if (Number.isFinite(shutdown) && !(grace > shutdown)) {
        fail(dep, 'spec.template.spec.terminationGracePeriodSeconds', `${grace} must be greater than Saiki__Silo__ShutdownTimeoutSeconds (${shutdown})`);
      }

      // Probes: all three, HTTP GET on the named http port, the silo's health paths.
      for (const [probe, path] of Object.entries(PROBES)) {
        const p = c[probe];
        if (!p) { fail(dep, `${at}.${probe}`, 'missing'); continue; }
        if (!p.httpGet) { fail(dep, `${at}.${probe}`, 'must be an httpGet probe'); continue; }
        if (p.httpGet.port !== 'http') fail(dep, `${at}.${probe}.httpGet.port`, `is ${JSON.stringify(p.httpGet.port)}, expected the named port "http"`);
        if (p.httpGet.path !== path) fail(dep, `${at}.${probe}.httpGet.path`, `is "${p.httpGet.path}", expected ${path}`);
      }
      if ((c.startupProbe?.failureThreshold ?? 0) * (c.startupProbe?.periodSeconds ?? 10) < 60) fail(dep, `${at}.startupProbe`, 'allows less than 60 s to start (joining the cluster and applying the schema take time)');

      // Container security and the writable /tmp.
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) fail(dep, `${at}.securityContext.readOnlyRootFilesystem`, 'must be true');
      if (sc.allowPrivilegeEscalation !== false) fail(dep, `${at}.securityContext.allowPrivilegeEscalation`, 'must be false');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) fail(dep, `${at}.securityContext.capabilities.drop`, 'must drop ALL');
      const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
      if (!tmp) fail(dep, `${at}.volumeMounts`, 'no volume at /tmp (the root file system is read-only)');
      else if (!volumes.get(tmp.name)?.emptyDir) fail(dep, `${at}.volumeMounts`, `/tmp must be an emptyDir volume ("${tmp.name}")`);
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) fail(dep, `${at}.volumeMounts`, `volume "${m.name}" is not defined in the pod`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) fail(dep, `${at}.resources.requests`, 'cpu and memory requests are required');
      if (!c.resources?.limits?.memory) fail(dep, `${at}.resources.limits.memory`, 'a memory limit is required');

      // Metrics annotations point at the http port.
      const ann = pod.metadata?.annotations ?? {};
      if (ann['prometheus.io/scrape'] !== undefined) {
        if (ann['prometheus.io/scrape'] !== 'true') fail(dep, 'spec.template.metadata.annotations.prometheus.io/scrape', 'must be "true"');
        if (ann['prometheus.io/path'] !== '/metrics') fail(dep, 'spec.template.metadata.annotations.prometheus.io/path', 'must be /metrics');
        if (ann['prometheus.io/port'] !== String(ports.get('http'))) fail(dep, 'spec.template.metadata.annotations.prometheus.io/port', `must be the http port "${ports.get('http')}"`);
      }
    }

    // ServiceAccount.
    const saName = podSpec.serviceAccountName;
    const sas = byKind('ServiceAccount');
    if (sas.length > 0 && !sas.some((s) => s.obj.metadata.name === saName)) fail(dep, 'spec.template.spec.serviceAccountName', `"${saName}" is not the rendered ServiceAccount`);

    // Container ports by name, and names by number (the one container's).
    const portOf = new Map((containers[0]?.ports ?? []).map((p) => [p.name, p.containerPort]));
    const nameOf = new Map((containers[0]?.ports ?? []).map((p) => [p.containerPort, p.name]));

    // Service: selects the pods, targets named container ports, exposes http only (clients use REST; the Orleans
    // silo and gateway ports stay inside the cluster).
    for (const svc of byKind('Service')) {
      if (!isSubset(svc.obj.spec?.selector, podLabels) || Object.keys(svc.obj.spec?.selector ?? {}).length === 0) fail(svc, 'spec.selector', 'does not select the Deployment\'s pods');
      if (svc.obj.spec?.type && svc.obj.spec.type !== 'ClusterIP') fail(svc, 'spec.type', 'must be ClusterIP');
      const named = new Set((podSpec.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
      for (const [i, p] of (svc.obj.spec?.ports ?? []).entries()) {
        if (typeof p.targetPort === 'string' ? !named.has(p.targetPort) : true) fail(svc, `spec.ports[${i}].targetPort`, `must name a container port (${[...named].join(', ')})`);
        const target = typeof p.targetPort === 'string' ? p.targetPort : nameOf.get(p.targetPort ?? p.port);
        if (target === 'gateway' || target === 'silo') fail(svc, `spec.ports[${i}]`, `exposes the Orleans ${target} port: clients use the REST API (http), and only the release's own silos may reach ${target}`);
      }
      if (!(svc.obj.spec?.ports ?? []).some((p) => p.targetPort === 'http')) fail(svc, 'spec.ports', 'does not expose "http"');
    }

    // NetworkPolicy: selects exactly the release's silo pods, admits the silo and gateway ports only from them, the
    // http port from networkPolicy.httpFrom (anywhere when empty), and leaves egress alone.
    const policies = byKind('NetworkPolicy');
    if (ctx.networkPolicy?.enabled && policies.length === 0) problems.push('networkPolicy.enabled is true but no NetworkPolicy is rendered');
    for (const np of policies) {
      if (!ctx.networkPolicy?.enabled) fail(np, 'kind', 'rendered although networkPolicy.enabled is false');
      const s = np.obj.spec ?? {};
      const ml = s.podSelector?.matchLabels ?? {};
      if (Object.keys(ml).length === 0 || !isSubset(ml, podLabels) || !isSubset(selector, ml) || s.podSelector?.matchExpressions) {
        fail(np, 'spec.podSelector', `${canonical(s.podSelector)} does not select exactly the Deployment's pods (matchLabels ${canonical(selector)})`);
      }
      if (canonical(s.policyTypes) !== '["Ingress"]') fail(np, 'spec.policyTypes', `is ${canonical(s.policyTypes)}, expected ["Ingress"] (egress to PostgreSQL, S3, Kafka and DNS is not restricted)`);
      if (s.egress !== undefined) fail(np, 'spec.egress', 'must not be set (egress is not restricted)');
      const ingress = s.ingress ?? [];
      // Whether a rule admits TCP to the named container port (a rule without ports admits every port).
      const covers = (rule, name) => {
        const num = portOf.get(name);
        if (!rule.ports || rule.ports.length === 0) return true;
        return rule.ports.some((p) => {
          if ((p.protocol ?? 'TCP') !== 'TCP') return false;
          if (p.port === undefined) return true;
          if (typeof p.port === 'string') return p.port === name;
          return p.endPort !== undefined ? p.port <= num && num <= p.endPort : p.port === num;
        });
      };
      // A peer of only the release's silo pods: a podSelector alone (same namespace) holding the selector labels.
      const ownSilos = (peer) => Object.keys(peer ?? {}).length === 1 && peer.podSelector && Object.keys(selector).length > 0 && isSubset(selector, peer.podSelector.matchLabels ?? {});
      for (const name of ['silo', 'gateway']) {
        const num = portOf.get(name);
        let admitted = false;
        for (const [i, rule] of ingress.entries()) {
          if (!covers(rule, name)) continue;
          const from = rule.from ?? [];
          if (from.length === 0) { fail(np, `spec.ingress[${i}]`, `admits the ${name} port (${num}) from anywhere: only the release's own silo pods may reach it`); continue; }
          for (const [j, peer] of from.entries()) {
            if (!ownSilos(peer)) fail(np, `spec.ingress[${i}].from[${j}]`, `admits the ${name} port (${num}) from ${canonical(peer)}: only the release's own silo pods (podSelector ${canonical(selector)}, same namespace) may reach it`);
          }
          admitted = true;
        }
        if (!admitted) fail(np, 'spec.ingress', `does not admit the ${name} port (${num}) from the release's own silo pods`);
      }
      const httpRules = ingress.filter((r) => covers(r, 'http'));
      if (httpRules.length === 0) fail(np, 'spec.ingress', `does not admit the http port (${portOf.get('http')}): the REST API would be unreachable`);
      const want = ctx.networkPolicy?.httpFrom ?? [];
      for (const rule of httpRules) {
        const from = rule.from ?? [];
        if (canonical(from) !== canonical(want)) {
          fail(np, `spec.ingress[${ingress.indexOf(rule)}].from`, `admits the http port (${portOf.get('http')}) from ${from.length ? canonical(from) : 'anywhere'}, expected networkPolicy.httpFrom (${want.length ? canonical(want) : 'anywhere'})`);
        }
      }
    }

    // HorizontalPodAutoscaler: targets this Deployment, which then leaves replicas to it.
    const hpas = byKind('HorizontalPodAutoscaler');
    for (const hpa of hpas) {
      const ref = hpa.obj.spec?.scaleTargetRef ?? {};
      if (ref.apiVersion !== 'apps/v1' || ref.kind !== 'Deployment' || ref.name !== dep.obj.metadata.name) {
        fail(hpa, 'spec.scaleTargetRef', `${ref.apiVersion}/${ref.kind}/${ref.name} is not the Deployment apps/v1/Deployment/${dep.obj.metadata.name}`);
      }
      if ((hpa.obj.spec?.minReplicas ?? 1) > hpa.obj.spec?.maxReplicas) fail(hpa, 'spec.minReplicas', 'exceeds maxReplicas');
      if (spec.replicas !== undefined) fail(dep, 'spec.replicas', 'must be unset when a HorizontalPodAutoscaler owns the replica count');
    }
    if (hpas.length === 0 && !Number.isInteger(spec.replicas)) fail(dep, 'spec.replicas', 'must be set without a HorizontalPodAutoscaler');

    // PodDisruptionBudget: the same pods as the Deployment.
    for (const pdb of byKind('PodDisruptionBudget')) {
      if (!sameMap(pdb.obj.spec?.selector?.matchLabels, selector)) fail(pdb, 'spec.selector.matchLabels', `${JSON.stringify(pdb.obj.spec?.selector?.matchLabels)} differs from the Deployment's selector ${JSON.stringify(selector)}`);
      if (pdb.obj.spec?.minAvailable !== undefined) fail(pdb, 'spec.minAvailable', 'use maxUnavailable (rolling hand-over)');
    }

    // Anti-affinity by default spreads the pods across nodes.
    const anti = podSpec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    for (const [i, term] of anti.entries()) {
      if (!isSubset(term.podAffinityTerm?.labelSelector?.matchLabels, podLabels)) fail(dep, `spec.template.spec.affinity.podAntiAffinity[${i}]`, 'label selector does not match the pods');
    }
  }

  // RBAC: the binding ties the rendered Role to the pods' ServiceAccount.
  for (const rb of byKind('RoleBinding')) {
    const ref = rb.obj.roleRef ?? {};
    if (ref.kind !== 'Role' || !find('Role', ref.name)) fail(rb, 'roleRef', `Role "${ref.name}" is not rendered`);
    const saName = deployments[0]?.obj.spec?.template?.spec?.serviceAccountName;
    if (!(rb.obj.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === saName && s.namespace === ctx.namespace)) {
      fail(rb, 'subjects', `does not bind the pods' ServiceAccount "${saName}" in "${ctx.namespace}"`);
    }
  }
  for (const role of byKind('Role')) {
    for (const [i, r] of (role.obj.rules ?? []).entries()) {
      const verbs = r.verbs ?? [];
      if (verbs.some((v) => !['get', 'list', 'watch'].includes(v))) fail(role, `rules[${i}].verbs`, `only get, list and watch are granted (got ${verbs.join(', ')})`);
    }
  }
  return problems;
}
