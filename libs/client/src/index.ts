export { Connection, ConnectionError, type ConnectionOptions } from './network/connection';
