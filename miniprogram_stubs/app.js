const { client } = require('./utils/api.js');

App({
  globalData: {
    /** the one API client of the citizen's side; pages require utils/api.js and use it too */
    api: client,
  },
});
