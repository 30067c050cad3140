# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Medians, ratios and the three outputs of `make bench`: a markdown table, a JSON file, a PNG plot."""
import json
import statistics


def summarize(samples):
    if not samples:
        return {"runs": 0, "median": None, "min": None, "max": None, "samples": []}
    return {"runs": len(samples), "median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "samples": [round(s, 4) for s in samples]}


def ratio(baseline, ours):
    if baseline["median"] is None or not ours["median"]:
        return None
    return round(baseline["median"] / ours["median"], 2)


def cell(summary, unit="s", digits=2):
    """'29.81 s [28.10-31.02]': the median and, with several runs, the range."""
    if not summary["runs"]:
        return "no complete run"
    text = "{:.{d}f} {}".format(summary["median"], unit, d=digits)
    if summary["runs"] > 1:
        text += " [{:.{d}f}-{:.{d}f}]".format(summary["min"], summary["max"], d=digits)
    return text


def markdown(rows, notes=()):
    lines = ["| measurement | ours (median [min-max]) | baseline (median [min-max]) | baseline / ours | target | met |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        values = dict(row)
        values["ratio"] = "-" if row.get("ratio") is None else "{}x".format(row["ratio"])
        lines.append("| {name} | {ours} | {baseline} | {ratio} | {target} | {met} |".format(**values))
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


def write_json(path, data):
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)


def plot(path, scaling, bars, title):
    """Two panels: scaling curves {label: ([x...], [y...], style)} on a log2 axis, and grouped bars
    {group: {series: value}} (series in the order given)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(13, 5), dpi=110)
    for label, (xs, ys, style) in scaling.items():
        left.plot(xs, ys, style, label=label)
    left.set_title("(e) Antidote createDC + connectDCs (real AntidoteDB 0.2.2 nodes)")
    left.set_xlabel("data centres")
    left.set_ylabel("seconds (median)")
    left.set_xscale("log", base=2)
    left.set_xticks([1, 2, 4, 8, 16])
    left.set_xticklabels(["1", "2", "4", "8", "16"])
    left.grid(True, alpha=0.3)
    if scaling:
        top = max(max(ys) for _xs, ys, _style in scaling.values())
        left.set_ylim(0, top * 1.7)  # room for the legend above the curves
        left.legend(fontsize=7, loc="upper left")

    if not bars:
        right.set_axis_off()
        figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        figure.savefig(path)
        pyplot.close(figure)
        return
    groups = list(bars)
    series = []  # in the order given
    for values in bars.values():
        series.extend(name for name in values if name not in series)
    width = 0.8 / max(len(series), 1)
    for index, name in enumerate(series):
        xs = [g + index * width for g in range(len(groups))]
        ys = [bars[group].get(name, 0) for group in groups]
        drawn = right.bar(xs, ys, width, label=name)
        right.bar_label(drawn, fmt="%.1f", fontsize=7)
    right.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))])
    right.set_xticklabels(groups, fontsize=8)
    right.set_ylabel("seconds (median)")
    right.set_title("(a)-(c) site.yml vs the kubernetes.core baseline")
    right.grid(True, axis="y", alpha=0.3)
    right.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
