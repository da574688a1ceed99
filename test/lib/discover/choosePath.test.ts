import { floorCalls, PathChooser } from '../../../lib/discover/index.js';

describe('floorCalls', () => {
  it('is one listing page and one DescribeTasks per 100 tasks, at least one page', () => {
    expect(floorCalls(0)).toBe(1);
    expect(floorCalls(100)).toBe(2);
    expect(floorCalls(385)).toBe(8);
    expect(floorCalls(5000)).toBe(100);
  });
});

describe('PathChooser', () => {
  it('starts with the Tagging API and keeps it while it costs the floor', () => {
    const chooser = new PathChooser();
    expect(chooser.next()).toBe('tagging');
    chooser.record({ path: 'tagging', calls: 8, shared: 385 });
    for (let run = 0; run < 50; run += 1) expect(chooser.next()).toBe('tagging');
  });

  it('measures ListTasks once when the Tagging API is above the floor, then takes the cheaper path', () => {
    const chooser = new PathChooser();
    chooser.next();
    chooser.record({ path: 'tagging', calls: 54, shared: 385 }); // 50 pages of the Region, 4 DescribeTasks
    expect(chooser.next()).toBe('listTasks');
    chooser.record({ path: 'listTasks', calls: 8, shared: 385 }); // at the floor
    for (let run = 0; run < 50; run += 1) expect(chooser.next()).toBe('listTasks');
  });

  it('after a ListTasks run that fell back on the Tagging API (tags not sent), takes the Tagging API', () => {
    const chooser = new PathChooser();
    chooser.next();
    chooser.record({ path: 'tagging', calls: 12, shared: 385 });
    expect(chooser.next()).toBe('listTasks');
    // What discover() records for that run: ListTasks charged both paths' calls, then the Tagging API's own.
    chooser.record({ path: 'listTasks', calls: 8 + 12, shared: 385 });
    chooser.record({ path: 'tagging', calls: 12, shared: 385 });
    for (let run = 0; run < 19; run += 1) {
      expect(chooser.next()).toBe('tagging');
      chooser.record({ path: 'tagging', calls: 12, shared: 385 });
    }
  });

  it('goes back to the Tagging API when ListTasks is dearer (many untagged tasks), re-measuring it now and then', () => {
    const chooser = new PathChooser();
    chooser.next();
    chooser.record({ path: 'tagging', calls: 12, shared: 385 }); // a few stopped tasks: above the floor of 8
    expect(chooser.next()).toBe('listTasks');
    chooser.record({ path: 'listTasks', calls: 60, shared: 385 }); // 3,000 untagged tasks in the cluster
    const taken: string[] = [];
    for (let run = 0; run < 40; run += 1) {
      const path = chooser.next();
      taken.push(path);
      chooser.record(path === 'tagging' ? { path, calls: 12, shared: 385 } : { path, calls: 60, shared: 385 });
    }
    expect(taken.filter((path) => path === 'tagging').length).toBeGreaterThanOrEqual(37);
    expect(taken.filter((path) => path === 'listTasks').length).toBeGreaterThanOrEqual(1); // the re-check
  });
});
