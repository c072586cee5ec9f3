using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Processes;

/// <summary>The registered processes; silos route cleansed changes by the definitions it returns.</summary>
public sealed class ProcessRegistryGrain(
    [PersistentState("process-registry", SaikiNames.Storage)] IPersistentState<ProcessRegistryState> state,
    Microsoft.Extensions.Options.IOptions<PipelineOptions> options,
    ILogger<ProcessRegistryGrain> logger) : Grain, IProcessRegistryGrain
{
    /// <inheritdoc />
    public async Task<ProcessInfo> RegisterAsync(ProcessDefinition definition)
    {
        var process = CompiledProcess.Compile(definition);
        if (!options.Value.AllowLinkLocalWebhooks && definition.Webhook is { } hook && WebhookGuard.Problem(hook) is { } problem)
        {
            throw new ProcessValidationException([problem]);
        }
        if (state.State.Definitions.Any(d => d.Name == process.Name))
        {
            throw new ProcessValidationException([$"a process named '{process.Name}' is registered already; remove it first to register it again"]);
        }
        await GrainFactory.GetGrain<IProcessGrain>(process.Name).DefineAsync(definition);
        state.State.Definitions.Add(definition);
        await state.WriteStateAsync();
        ProcessLog.Registered(logger, process.Name, process.StepCount, definition.Partitions);
        return (await GrainFactory.GetGrain<IProcessGrain>(process.Name).GetAsync())!;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ProcessDefinition>> GetDefinitionsAsync() => Task.FromResult<IReadOnlyList<ProcessDefinition>>(state.State.Definitions.ToArray());

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProcessInfo>> ListAsync() =>
        (await Task.WhenAll(state.State.Definitions.Select(d => GrainFactory.GetGrain<IProcessGrain>(d.Name).GetAsync()))).OfType<ProcessInfo>().ToArray();

    /// <inheritdoc />
    public async Task<bool> RemoveAsync(string name)
    {
        var index = state.State.Definitions.FindIndex(d => d.Name == name);
        if (index < 0)
        {
            return false;
        }
        state.State.Definitions.RemoveAt(index);
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IProcessGrain>(name).RemoveAsync();
        return true;
    }
}

/// <summary>The registry's stored state.</summary>
[GenerateSerializer, Alias("saiki.process-registry-state")]
public sealed class ProcessRegistryState
{
    [Id(0)] public List<ProcessDefinition> Definitions { get; set; } = [];
}
