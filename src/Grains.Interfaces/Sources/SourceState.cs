namespace Saiki.Orleans.Sources;

/// <summary>Life cycle of a registered source.</summary>
public enum SourceState
{
    /// <summary>Registered; capture is (re)connecting.</summary>
    Starting = 0,
    /// <summary>Reading the initial snapshot; streaming starts when it is complete.</summary>
    Snapshotting = 4,
    /// <summary>Capturing changes.</summary>
    Running = 1,
    /// <summary>Capture stopped on an error that needs an operator; <see cref="SourceInfo.Error"/> says why.</summary>
    Failed = 2,
    /// <summary>Removed: slot and publication dropped.</summary>
    Removed = 3,
    /// <summary>
    /// Capture paused by an operator: nothing is read until it is resumed, and the source database keeps the changes
    /// meanwhile (a PostgreSQL slot retains WAL: lag, retained WAL and its alert stay reported).
    /// </summary>
    Paused = 5,
}
