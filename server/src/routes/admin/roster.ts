import fs from 'node:fs/promises';
import Joi from 'joi';
import type { RosterImportsResponse } from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../domain/errors.js';
import { importRosterFile, recentRosterImports, rosterImport } from '../../domain/roster/roster-import.js';
import { validate } from '../../http/validate.js';
import { uuid } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

/** The multipart upload path; app.ts gives it its own body parser (the only multipart route). */
export const ROSTER_UPLOAD_PATH = /^\/api\/v1\/admin\/schools\/[^/]+\/roster\/imports$/;

const uploadFields = Joi.object({
  markMissingAsLeft: Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off').default(false),
}).unknown(false);
const importParams = Joi.object({ schoolId: Joi.string(), id: uuid.required() });

interface UploadedFile {
  filepath: string;
  originalFilename?: string | null;
}

/** Roster import (issue 13): owners upload a CSV or XLSX file (multipart field `file`) and read the report. */
export function rosterRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.post('/roster/imports', 'OWNER', async (ctx) => {
    const files = (ctx.request as { files?: Record<string, UploadedFile | UploadedFile[]> }).files ?? {};
    const uploaded = files.file;
    const fields = validate(uploadFields, ctx.request.body ?? {}, 'body');
    try {
      if (!uploaded || Array.isArray(uploaded))
        throw new DomainError('VALIDATION_FAILED', 'file: send one roster file as multipart field "file"', {
          field: 'file',
        });
      const bytes = await fs.readFile(uploaded.filepath);
      const { schoolId, actor } = ctx.state.admin;
      const view = await importRosterFile(deps, actor, schoolId, {
        fileName: uploaded.originalFilename || 'roster',
        bytes,
        markMissingAsLeft: fields.markMissingAsLeft,
      });
      ctx.status = view.status === 'QUEUED' ? 202 : 201;
      ctx.body = view;
    } finally {
      // formidable keeps uploads in the temp folder; nothing of the file stays after the request.
      for (const file of Object.values(files).flat()) await fs.rm(file.filepath, { force: true });
    }
  });

  school.get('/roster/imports', 'OWNER', async (ctx) => {
    ctx.body = {
      items: await recentRosterImports(deps, ctx.state.admin.schoolId),
    } satisfies RosterImportsResponse;
  });

  school.get('/roster/imports/:id', 'OWNER', async (ctx) => {
    const { id } = validate(importParams, ctx.params, 'params');
    ctx.body = await rosterImport(deps, ctx.state.admin.schoolId, id);
  });
}
