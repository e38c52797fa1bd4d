// tap "coverage-map" (package.json "tap"): whichever test file runs, coverage is recorded and
// reported for the sources only, not for test helpers and fixtures or the tooling in scripts/.
export default () => 'src/**/*.ts'
