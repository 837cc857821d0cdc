// A Stryker reporter (issue 20): writes each surviving or uncovered mutant as it is tested, one JSON line in
// reports/mutation/<module>-survivors.jsonl, so that survivors can be answered while a long run goes on
// (Stryker's own reports appear only at the end). Locations are the report's: lines and columns from 1.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';

class SurvivorsReporter {
  constructor() {
    this.file = path.resolve(process.env.STRYKER_SURVIVORS_FILE ?? 'reports/mutation/survivors.jsonl');
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, '');
  }
  onMutantTested(result) {
    if (result.status !== 'Survived' && result.status !== 'NoCoverage') return;
    const { fileName, location, mutatorName, replacement, status } = result;
    const line = {
      status,
      file: path.relative(process.cwd(), fileName),
      line: location.start.line,
      column: location.start.column,
      mutatorName,
      replacement,
    };
    fs.appendFileSync(this.file, JSON.stringify(line) + '\n');
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'survivors', SurvivorsReporter)];
