// The dashboard: one page, views chosen by the URL's fragment so a job's page can be
// bookmarked and reloaded without the daemon knowing these paths.
//   #/?pipeline=&status=   the jobs list      #/jobs/<id>   a job
//   #/new                  every trigger's form   #/new/<operationId>   one of them
import { onCredentialChange, setUpKeyPanel } from './api.js';
import { showJob } from './job.js';
import { showJobs } from './jobs.js';
import { showForms } from './form.js';

const main = document.getElementById('app');
let leave = null;  // the current view's cleanup: stops its polling

function route() {
  if (leave) leave();
  leave = null;
  const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  let view = 'jobs';
  if (path.startsWith('/jobs/')) {
    view = 'job';
    leave = showJob(main, path.slice('/jobs/'.length));
  } else if (path === '/new' || path.startsWith('/new/')) {
    view = 'new';
    leave = showForms(main, path.slice('/new/'.length));
  } else {
    leave = showJobs(main, params);
  }
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === view || (view === 'job' && a.dataset.nav === 'jobs'));
}

setUpKeyPanel();
onCredentialChange(route);
window.addEventListener('hashchange', route);
route();
