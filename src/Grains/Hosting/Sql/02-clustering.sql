-- =============================================================================
-- 02-clustering.sql  -  Orleans membership (clustering) store for PostgreSQL
--
-- Serves: Microsoft.Orleans.Clustering.AdoNet 10.4.x (written against 10.4.2),
--         ADO.NET invariant "Npgsql". Used by silos (membership table) and by
--         clients (gateway list). Requires 01-main.sql.
--
-- The provider passes ClusterOptions.ClusterId as parameter DeploymentId.
-- Parameter types as bound by the provider through Npgsql:
--     DeploymentId, Address, SiloName, HostName, SuspectTimes    text
--     Port, Generation, Status, ProxyPort, Version               integer
--     StartTime, IAmAliveTime                                    timestamptz
-- (DateTime values are bound with DbType.DateTime, which Npgsql 6+ sends as
-- timestamp with time zone, so every time column here is timestamptz.)
-- Status holds the numeric SiloStatus: 3 = Active, 6 = Dead.
--
-- Result contract:
--   * The two read queries always return the version row of the deployment,
--     joined to zero or more member rows (member columns NULL when none).
--   * InsertMembershipVersionKey, InsertMembershipKey and UpdateMembershipKey
--     return one row with one boolean column: true means the write happened.
--     Insert and update of a member succeed only together with the increment
--     of the table version, and only if the caller read the current version.
--     Each of them is a single statement, so it is atomic on its own.
--   * CleanupDefunctSiloEntryKey (optional key, preferred by 10.4.x when it is
--     registered) deletes one dead row only if it still holds the values the
--     provider read. CleanupDefunctSiloEntriesKey is the mandatory bulk variant
--     that older 10.x providers use.
--
-- Idempotent: safe to apply repeatedly.
-- =============================================================================

SELECT pg_advisory_xact_lock(1330794574, 0);

-- One row per cluster. Version is the optimistic-concurrency token of the
-- whole membership table of that cluster.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Version      integer      NOT NULL DEFAULT 0,
    ModifiedOn   timestamptz  NOT NULL DEFAULT now(),

    CONSTRAINT PK_OrleansMembershipVersionTable PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address, port and generation).
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45)  NOT NULL,
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(255) NOT NULL,
    HostName     varchar(255) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL DEFAULT 0,
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,

    CONSTRAINT PK_OrleansMembershipTable PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_OrleansMembershipTable_Version FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
(
    'InsertMembershipVersionKey',
    'WITH inserted AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING DeploymentId
)
SELECT EXISTS (SELECT 1 FROM inserted) AS Inserted'
),
(
    'MembershipReadAllKey',
    'SELECT
    v.Version,
    m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
    m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m
    ON m.DeploymentId = v.DeploymentId
WHERE v.DeploymentId = @DeploymentId
ORDER BY m.Address, m.Port, m.Generation'
),
(
    'MembershipReadRowKey',
    'SELECT
    v.Version,
    m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
    m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m
    ON m.DeploymentId = v.DeploymentId
   AND m.Address = @Address
   AND m.Port = @Port
   AND m.Generation = @Generation
WHERE v.DeploymentId = @DeploymentId'
),
(
    'InsertMembershipKey',
    'WITH current_version AS (
    SELECT DeploymentId
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = @DeploymentId
      AND Version = @Version
    FOR UPDATE
),
inserted AS (
    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName,
         Status, ProxyPort, StartTime, IAmAliveTime)
    SELECT cv.DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
           @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM current_version AS cv
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING
    RETURNING DeploymentId
),
bumped AS (
    UPDATE OrleansMembershipVersionTable AS v
    SET Version = v.Version + 1,
        ModifiedOn = now()
    FROM inserted AS i
    WHERE v.DeploymentId = i.DeploymentId
    RETURNING v.Version
)
SELECT EXISTS (SELECT 1 FROM bumped) AS Succeeded'
),
(
    'UpdateMembershipKey',
    'WITH current_version AS (
    SELECT DeploymentId
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = @DeploymentId
      AND Version = @Version
    FOR UPDATE
),
updated AS (
    UPDATE OrleansMembershipTable AS m
    SET Status = @Status,
        SuspectTimes = @SuspectTimes,
        IAmAliveTime = @IAmAliveTime
    FROM current_version AS cv
    WHERE m.DeploymentId = cv.DeploymentId
      AND m.Address = @Address
      AND m.Port = @Port
      AND m.Generation = @Generation
    RETURNING m.DeploymentId
),
bumped AS (
    UPDATE OrleansMembershipVersionTable AS v
    SET Version = v.Version + 1,
        ModifiedOn = now()
    FROM updated AS u
    WHERE v.DeploymentId = u.DeploymentId
    RETURNING v.Version
)
SELECT EXISTS (SELECT 1 FROM bumped) AS Succeeded'
),
(
    'UpdateIAmAlivetimeKey',
    'UPDATE OrleansMembershipTable
SET IAmAliveTime = @IAmAliveTime
WHERE DeploymentId = @DeploymentId
  AND Address = @Address
  AND Port = @Port
  AND Generation = @Generation'
),
(
    'GatewaysQueryKey',
    'SELECT Address, ProxyPort, Generation
FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Status = @Status
  AND ProxyPort > 0'
),
(
    'DeleteMembershipTableEntriesKey',
    'WITH removed_members AS (
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
)
DELETE FROM OrleansMembershipVersionTable
WHERE DeploymentId = @DeploymentId'
),
(
    'CleanupDefunctSiloEntriesKey',
    'DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Status = 6
  AND StartTime < @IAmAliveTime
  AND IAmAliveTime < @IAmAliveTime'
),
(
    'CleanupDefunctSiloEntryKey',
    'DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Address = @Address
  AND Port = @Port
  AND Generation = @Generation
  AND Status = 6
  AND StartTime = @StartTime
  AND IAmAliveTime = @IAmAliveTime
  AND (SuspectTimes = @SuspectTimes
       OR (coalesce(length(SuspectTimes), 0) = 0 AND coalesce(length(@SuspectTimes), 0) = 0))'
)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
