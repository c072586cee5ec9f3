using Saiki.Orleans.Capture.Postgres;

namespace Saiki.Orleans.Tests.Capture;

public sealed class CopyTextTests
{
    [Fact]
    public void EscapesAndNulls_DecodeToTheTextForm()
    {
        Assert.Equal(
            (IEnumerable<string?>)["1", null, "a\tb\nc\\d", "\\x00ff", "", "é\u0001"],
            CopyText.ParseRow(@"1	\N	a\tb\nc\\d	\\x00ff		é\001", 6));
    }

    [Fact]
    public void WrongColumnCount_IsAnError()
    {
        Assert.Throws<FormatException>(() => CopyText.ParseRow("1\t2\t3", 2));
        Assert.Throws<FormatException>(() => CopyText.ParseRow("1", 2));
    }
}
