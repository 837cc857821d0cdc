import type { SchoolView } from '../shared/api';

export interface SchoolRow {
  id: string;
  name: string;
  brief: string;
}

export function toSchoolRows(schools: SchoolView[]): SchoolRow[] {
  return schools.map((school) => ({
    id: school.id,
    name: school.name,
    brief: school.withholdingEnabled ? '支持充值 · 支持刷卡免密代扣' : '支持充值',
  }));
}
