using Saiki.Orleans.Processes;

namespace Saiki.Orleans.Tests.Processes;

/// <summary>Every refusal of a process definition names its problem; a good one compiles.</summary>
public sealed class ProcessDefinitionTests
{
    private static ProcessStep Created => new("created", "shop", "public.orders", "id");
    private static ProcessStep Paid => new("paid", "shop", "public.payments", "order_id", Deadline: new StepDeadline("created", TimeSpan.FromMinutes(30)));

    public static TheoryData<ProcessDefinition, string> Refused => new()
    {
        { new ProcessDefinition("bad name!", [Created]), "process name 'bad name!' is invalid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'" },
        { new ProcessDefinition("p", [Created], Partitions: 0), "partitions is 0; it must be between 1 and 256" },
        { new ProcessDefinition("p", [Created], Webhook: "ftp://x/y"), "webhook 'ftp://x/y' is not an http(s) URL" },
        { new ProcessDefinition("p", []), "steps: at least one step is required" },
        { new ProcessDefinition("p", Enumerable.Range(0, 33).Select(i => Created with { Name = "s" + i }).ToArray()), "steps: 33 steps; at most 32" },
        { new ProcessDefinition("p", [Created, Created]), "steps[1] (created): name 'created' is used by steps[0] too" },
        { new ProcessDefinition("p", [Created with { Name = "" }]), "steps[0]: name is required" },
        { new ProcessDefinition("p", [Created with { Source = "" }]), "steps[0] (created): source is required" },
        { new ProcessDefinition("p", [Created with { Table = "orders" }]), "steps[0] (created): table 'orders' must be schema.table" },
        { new ProcessDefinition("p", [Created with { Key = " " }]), "steps[0] (created): key (the column holding the business key) is required" },
        { new ProcessDefinition("p", [Created with { Operations = ["upsert"] }]), "steps[0] (created): operation 'upsert' is not insert, update or delete" },
        { new ProcessDefinition("p", [Created with { Where = [new FieldPredicate("status", "like", "x")] }]), "steps[0] (created): where[0]: op 'like' is not one of eq, ne, in, gt, lt, null, notnull" },
        { new ProcessDefinition("p", [Created with { Where = [new FieldPredicate("status", "eq")] }]), "steps[0] (created): where[0]: op 'eq' needs a value" },
        { new ProcessDefinition("p", [Created with { Where = [new FieldPredicate("total", "gt", "lots")] }]), "steps[0] (created): where[0]: op 'gt' needs a numeric value, not 'lots'" },
        { new ProcessDefinition("p", [Created with { Where = [new FieldPredicate("status", "in")] }]), "steps[0] (created): where[0]: op 'in' needs values" },
        { new ProcessDefinition("p", [Created with { Where = [new FieldPredicate("", "null")] }]), "steps[0] (created): where[0]: field is required" },
        { new ProcessDefinition("p", [Created with { Deadline = new StepDeadline("created", TimeSpan.FromMinutes(1)) }]), "steps[0] (created): the first step starts an instance and cannot have a deadline" },
        { new ProcessDefinition("p", [Created, Paid with { Deadline = new StepDeadline("crated", TimeSpan.FromMinutes(1)) }]), "steps[1] (paid): deadline.after 'crated' is not an earlier step" },
        { new ProcessDefinition("p", [Created, Paid with { Deadline = new StepDeadline("paid", TimeSpan.FromMinutes(1)) }]), "steps[1] (paid): deadline.after 'paid' is not an earlier step" },
        { new ProcessDefinition("p", [Created, Paid with { Deadline = new StepDeadline("created", TimeSpan.Zero) }]), "steps[1] (paid): deadline.within is 00:00:00; it must be positive and at most 366 days" },
        { new ProcessDefinition("p", [Created, Paid with { Deadline = new StepDeadline("created", TimeSpan.MaxValue) }]), $"steps[1] (paid): deadline.within is {TimeSpan.MaxValue}; it must be positive and at most 366 days" },
        { new ProcessDefinition("p", [Created, Paid with { Optional = true }]), "steps[1] (paid): an optional step cannot have a deadline" },
        { new ProcessDefinition("p", [Created with { Optional = true }]), "steps[0] (created): the first step starts an instance and cannot be optional" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void RefusedDefinitions_NameTheirProblem(ProcessDefinition definition, string problem)
    {
        var e = Assert.Throws<ProcessValidationException>(() => CompiledProcess.Compile(definition));
        Assert.Contains(problem, e.Problems);
    }

    [Fact]
    public void AGoodDefinition_Compiles_WithDeadlinesAndTerminalSteps()
    {
        var process = CompiledProcess.Compile(new ProcessDefinition("o2c", [
            Created, Paid,
            new ProcessStep("cancelled", "shop", "public.orders", "id", ["update"], [new FieldPredicate("status", "eq", "cancelled")], Terminal: true),
            new ProcessStep("shipped", "shop", "public.shipments", "order_id", Deadline: new StepDeadline("paid", TimeSpan.FromHours(48)), Terminal: true),
        ]));
        Assert.Equal([-1, 0, -1, 1], process.DeadlineAfter);
        Assert.Equal([false, false, true, true], process.Terminal);
        Assert.Equal([1], process.Armed[0]);
        Assert.Equal([3], process.Armed[1]);
        Assert.InRange(process.PartitionOf("12345"), 0, 3);
    }
}
