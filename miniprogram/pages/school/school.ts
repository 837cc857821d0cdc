/** Search the schools that use the platform and pick one to bind a card at. */
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { openPage } from '../../services/navigation';
import { toSchoolRows, type SchoolRow } from '../../view-models/schools';

Page({
  data: {
    query: '',
    loading: true,
    errorMessage: '',
    isEmpty: false,
    schools: [] as SchoolRow[],
  },

  onLoad(): Promise<void> {
    return this.search();
  },

  async search(): Promise<void> {
    this.setData({ loading: true, errorMessage: '', isEmpty: false });
    try {
      const { items } = await api.searchSchools(this.data.query);
      const schools = toSchoolRows(items);
      this.setData({ loading: false, schools, isEmpty: schools.length === 0 });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onQueryInput(value: string): void {
    this.setData({ query: value });
  },

  onSearch(): Promise<void> {
    return this.search();
  },

  onClearSearch(): Promise<void> {
    this.setData({ query: '' });
    return this.search();
  },

  /** School admins enter the admin area from here (issue 10). */
  onAdminEntry(): void {
    openPage('adminEntry');
  },

  onPickSchool(event: TapEvent): void {
    const school = this.data.schools.find((candidate) => candidate.id === datasetValue(event, 'id'));
    if (school) openPage('bind', { schoolId: school.id, schoolName: school.name });
  },
});
