import fs from 'node:fs/promises';
import path from 'node:path';
import { importRosterFile } from '../../../server/src/domain/roster/roster-import.js';
import { required, UsageError, type OperatorCommand } from '../command.js';

export const rosterCommands: OperatorCommand[] = [
  {
    name: 'roster import',
    args: '--school <code> [--mark-missing-as-left] <file.csv|file.xlsx>',
    summary:
      "imports a school's roster file (the same checks and report as the admins' upload; rows are upserted by card number)",
    options: { school: { type: 'string' }, 'mark-missing-as-left': { type: 'boolean' } },
    async run(ctx, input) {
      const school = await ctx.school(required(input, 'school'));
      const [file] = input.positionals;
      if (!file) throw new UsageError('which file? give the path of a .csv or .xlsx roster');
      const bytes = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
      });
      ctx.say(`importing ${path.basename(file)} (${bytes.length} bytes) into ${school.name}…`);
      // The operator waits for it: imported here, not by the job, whatever its size.
      const report = await importRosterFile(
        ctx.deps,
        ctx.actor,
        school.id,
        {
          fileName: path.basename(file),
          bytes,
          markMissingAsLeft: input.values['mark-missing-as-left'] === true,
        },
        { inline: true },
      );
      ctx.say(
        `${report.status}: ${report.inserted} new, ${report.updated} changed, ${report.unchanged} unchanged, ` +
          `${report.rejected} refused${report.markedLeft ? `, ${report.markedLeft} marked as left` : ''}`,
      );
      return report;
    },
  },
];
