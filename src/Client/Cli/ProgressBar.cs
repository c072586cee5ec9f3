namespace Saiki.Orleans.Cli;

/// <summary>
/// A one-line progress bar. On a terminal it redraws in place; redirected, it writes a line only when the text
/// changes, so logs stay readable.
/// </summary>
internal sealed class ProgressBar(TextWriter output, bool interactive, int width = 30)
{
    private string _last = "";

    public void Show(double fraction, string text)
    {
        fraction = Math.Clamp(double.IsFinite(fraction) ? fraction : 0, 0, 1);
        var filled = (int)Math.Round(fraction * width);
        var line = $"[{new string('#', filled)}{new string('.', width - filled)}] {fraction,4:P0} {text}";
        if (line == _last)
        {
            return;
        }
        if (interactive)
        {
            output.Write('\r' + line.PadRight(_last.Length));
        }
        else
        {
            output.WriteLine(line);
        }
        _last = line;
    }

    public void Done()
    {
        if (interactive && _last.Length > 0)
        {
            output.WriteLine();
        }
    }
}
