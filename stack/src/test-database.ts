import { createPostgresDatabase } from '@activity-deploy/deploy-api';

/**
 * Returns the environment that points a deploy API under test at the database the test
 * run chose. With `TEST_DEPLOY_API_DATABASE=postgres`, which `npm test` sets for its
 * PostgreSQL pass, that is a new database on the server in `TEST_POSTGRES_URL`.
 * Otherwise it is empty, and the API uses its SQLite file.
 */
export async function testDatabaseEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ DEPLOY_API_DATABASE_URL?: string }> {
  const choice = env.TEST_DEPLOY_API_DATABASE ?? 'sqlite';
  if (choice === 'sqlite') return {};
  if (choice !== 'postgres') {
    throw new Error(
      `invalid TEST_DEPLOY_API_DATABASE ${JSON.stringify(choice)}: expected sqlite or postgres`,
    );
  }
  if (!env.TEST_POSTGRES_URL) {
    throw new Error(
      'TEST_DEPLOY_API_DATABASE=postgres needs TEST_POSTGRES_URL, a connection string of a ' +
        'server where the tests may create databases; npm test sets both',
    );
  }
  return { DEPLOY_API_DATABASE_URL: await createPostgresDatabase(env.TEST_POSTGRES_URL) };
}
