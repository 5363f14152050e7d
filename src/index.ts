import { run } from './action/main.js';
import { actionServices } from './action/services.js';

void run(actionServices());
