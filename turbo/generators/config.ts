// `pnpm exec turbo gen connector` (or `--args <name> "<description>"`): scaffolds packages/<name> laid out
// like every connector of the repo — a connection, a source and a sink over an in-memory stand-in of the
// server, the conformance kit in its tests, a README and a changeset — building and passing as generated.
import type { PlopTypes } from "@turbo/gen";

const NAME = /^[a-z][a-z0-9-]*$/;

export default function generator(plop: PlopTypes.NodePlopAPI): void {
  plop.setGenerator("connector", {
    description: "A new connector package: packages/<name> with a connection, a source, a sink and tests",
    prompts: [
      {
        type: "input",
        name: "name",
        message: "The technology, lower case (the package is @pump/<name>, e.g. redis):",
        validate: (value: string) => NAME.test(value) || "lower-case letters, digits and dashes, starting with a letter",
      },
      {
        type: "input",
        name: "description",
        message: "One line: what the package gives @pump",
        default: (answers: { name: string }) => `${answers.name} for @pump: a source and a sink with at-least-once delivery.`,
      },
    ],
    actions: [
      {
        type: "addMany",
        destination: "{{ turbo.paths.root }}/packages/{{ kebabCase name }}",
        base: "templates/connector",
        templateFiles: "templates/connector/**/*.hbs",
        stripExtensions: ["hbs"],
        globOptions: { dot: true },
      },
      {
        type: "add",
        path: "{{ turbo.paths.root }}/.changeset/{{ kebabCase name }}-initial.md",
        templateFile: "templates/changeset.md.hbs",
      },
    ],
  });
}
