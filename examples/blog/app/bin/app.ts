#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { StreamFailuresStack } from '../lib/stream-failures-stack';

const app = new App();
new StreamFailuresStack(app, 'BlogStreamFailures');
