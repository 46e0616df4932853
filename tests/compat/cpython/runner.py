"""Run one CPython test module with unittest and write each test's outcome as JSON.

Usage: python3.11 runner.py MODULE OUT.json [CLASSES [SKIP]]   (MODULE like test.test_os;
CLASSES comma-separated globs of test class names, to run only those; SKIP
comma-separated globs of test ids not to run at all, e.g. tests that leave a process
behind that would hang the module's teardown when they fail)

It runs the same way natively and under Pyrene, so the two result files can be
compared test by test. It uses unittest directly rather than regrtest, whose
watchdog thread and worker processes are not what these suites are about.
"""

import fnmatch
import json
import sys
import unittest


class Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def addSuccess(self, test):
        super().addSuccess(test)
        self.outcomes[test.id()] = "ok"

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.outcomes[test.id()] = "FAIL"

    def addError(self, test, err):
        super().addError(test, err)
        self.outcomes[test.id()] = "ERROR"

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcomes[test.id()] = "skipped"

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.outcomes[test.id()] = "ok"

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcomes[test.id()] = "FAIL"

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.outcomes[test.id()] = "FAIL"


def by_class(suite):
    """The suite's tests grouped by class, in order (class fixtures run once per group)."""
    groups = {}
    stack = [suite]
    while stack:
        item = stack.pop(0)
        if isinstance(item, unittest.TestSuite):
            stack[:0] = list(item)
        else:
            groups.setdefault(type(item), []).append(item)
    return [unittest.TestSuite(tests) for tests in groups.values()]


def main():
    module, out = sys.argv[1], sys.argv[2]
    classes = sys.argv[3].split(",") if len(sys.argv) > 3 else ["*"]
    skip = [p for p in sys.argv[4].split(",") if p] if len(sys.argv) > 4 else []
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    result = Recorder(unittest.runner._WritelnDecorator(sys.stderr), True, 2)
    # as one run: module and class fixtures are set up and torn down once, not per group
    result._testRunEntered = True
    for group in by_class(suite):
        if not any(fnmatch.fnmatchcase(type(next(iter(group))).__name__, c) for c in classes):
            continue
        if skip:
            group = unittest.TestSuite(t for t in group
                                       if not any(fnmatch.fnmatchcase(t.id(), p) for p in skip))
            if not group.countTestCases():
                continue
        # one class at a time, so that a test that breaks the runner itself (an exception
        # escaping unittest) costs only the rest of its class
        ids = [test.id() for test in group]  # the suite forgets its tests as they run
        try:
            group(result)
        except BaseException as exc:  # noqa: BLE001 - recorded, then the next class runs
            print(f"runner: {type(exc).__name__}: {exc}", file=sys.stderr)
            for test_id in ids:
                result.outcomes.setdefault(test_id, "ERROR")
    finish = unittest.TestSuite()
    finish._tearDownPreviousClass(None, result)
    finish._handleModuleTearDown(result)
    result.printErrors()
    outcomes = result.outcomes
    # a test whose subtest failed and which then "succeeded" stays failed
    for test, _ in result.failures + result.errors:
        if hasattr(test, "id"):
            outcomes[test.id()] = "FAIL"
    with open(out, "w") as f:
        json.dump(outcomes, f, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
