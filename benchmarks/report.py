# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Medians, ratios and the three outputs of `make bench`: a markdown table, a JSON file, a PNG plot."""
import json
import statistics


def summarize(samples):
    return {"runs": len(samples), "median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "samples": [round(s, 4) for s in samples]}


def ratio(baseline, ours):
    return round(baseline["median"] / ours["median"], 2) if ours["median"] else None


def markdown(rows):
    lines = ["| measurement | ours (median s) | baseline (median s) | ratio | target | met |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append("| {name} | {ours} | {baseline} | {ratio} | {target} | {met} |".format(**row))
    return "\n".join(lines)


def write_json(path, data):
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)


def plot(path, curves, title, xlabel, ylabel):
    """curves: {label: [(x, y), ...]}; writes a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.5), dpi=110)
    for label, points in sorted(curves.items()):
        xs, ys = zip(*points)
        axes.plot(xs, ys, marker="o", label=label)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale("log", base=2)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
