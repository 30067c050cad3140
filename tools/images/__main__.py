# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""python3 -m tools.images build [RECIPE...] | list: image archives for localkube's real nodes."""
import argparse
import sys

from . import build


def main(argv):
    parser = argparse.ArgumentParser(prog="python3 -m tools.images")
    parser.add_argument("command", choices=("build", "list"))
    parser.add_argument("recipes", nargs="*", help="default: every recipe")
    args = parser.parse_args(argv)
    names = args.recipes or build.recipe_names()
    for name in names:
        print(build.build(name) if args.command == "build" else "{:<14} {}".format(name, build.image_name(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
