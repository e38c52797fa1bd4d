import t from 'tap'
import { loadScenarios, scenarioGroups, type LoadScenario, type LoadScenarioName } from '../../bench/lib/scenarios.js'

const pick = (...names: LoadScenarioName[]): LoadScenario[] => names.map((name) => loadScenarios.find((s) => s.name === name) as LoadScenario)
const names = (groups: LoadScenario[][]): string[][] => groups.map((group) => group.map((s) => s.name))

t.test('warm, resolver-down and warm-decision-log run in one group, cold and cold-unsigned in another, the others alone', async (t) => {
  t.same(names(scenarioGroups(loadScenarios)), [['warm', 'resolver-down', 'warm-decision-log'], ['cold', 'cold-unsigned'], ['cold-store'], ['players'], ['analytics'], ['hls-segments'], ['steering'], ['node'], ['node-cached'], ['many-nodes']])
})

t.test('a group holds only the scenarios chosen, in their order', async (t) => {
  t.same(names(scenarioGroups(pick('cold', 'resolver-down'))), [['cold'], ['resolver-down']])
  t.same(names(scenarioGroups(pick('resolver-down', 'many-nodes', 'warm'))), [['resolver-down', 'warm'], ['many-nodes']])
  t.same(scenarioGroups([]), [])
})
