/**
 * A case's form drawn from its item's JSON Schema (the guide's `form_schema`): what each field is,
 * which are required now (the `if`/`then` of the schema followed), and the values to send.
 * Kinds: text, number, enum (a picker), boolean (a switch), date (a date picker).
 */

function kindOf(prop) {
  const p = prop || {};
  const type = Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type;
  if (Array.isArray(p.enum) && p.enum.length) return 'enum';
  if (type === 'boolean') return 'boolean';
  if (type === 'number' || type === 'integer') return 'number';
  if (type === 'string' && p.format === 'date') return 'date';
  return 'text';
}

/** Does `form` satisfy an `if` made of `properties` with `const`/`enum` (the catalogue's shape)? */
function conditionHolds(condition, form) {
  const props = (condition && condition.properties) || {};
  const names = Object.keys(props);
  if (!names.length) return false;
  return names.every((name) => {
    const rule = props[name] || {};
    const value = form[name];
    if (value === undefined || value === '' || value === null) return false; // not chosen yet
    if ('const' in rule) return value === rule.const;
    if (Array.isArray(rule.enum)) return rule.enum.indexOf(value) >= 0;
    return true;
  });
}

/** The names required for `form` now: `required`, plus `then.required` when its `if` holds. */
function requiredNames(schema, form) {
  const s = schema || {};
  const names = new Set(Array.isArray(s.required) ? s.required : []);
  const branches = [s].concat(Array.isArray(s.allOf) ? s.allOf : []);
  branches.forEach((b) => {
    if (!b || !b.if) return;
    const branch = conditionHolds(b.if, form || {}) ? b.then : b.else;
    ((branch && branch.required) || []).forEach((n) => names.add(n));
  });
  return names;
}

/**
 * The fields to draw, in the schema's order: `{ name, title, kind, required, options, value,
 * index, maxlength, inputType, error }` (`index`: the chosen option's position, for a picker).
 * `errors`: `{ name: message }` shown beside each field.
 */
function buildFields(schema, form, errors) {
  const props = (schema && schema.properties) || {};
  const values = form || {};
  const required = requiredNames(schema, values);
  return Object.keys(props).map((name) => {
    const prop = props[name] || {};
    const kind = kindOf(prop);
    const value = values[name];
    const options = kind === 'enum' ? prop.enum.map(String) : [];
    return {
      name,
      title: prop.title || name,
      description: prop.description || '',
      kind,
      required: required.has(name),
      options,
      index: kind === 'enum' ? options.indexOf(value === undefined ? '' : String(value)) : -1,
      value: value === undefined || value === null ? (kind === 'boolean' ? false : '') : value,
      maxlength: typeof prop.maxLength === 'number' ? prop.maxLength : 140,
      inputType: kind === 'number' ? 'digit' : prop['x-personal'] === 'phone' ? 'number' : 'text',
      error: (errors && errors[name]) || '',
    };
  });
}

/** A value typed into a field, as the schema wants it (a number field's text becomes a number). */
function coerce(prop, raw) {
  const kind = kindOf(prop);
  if (kind === 'boolean') return Boolean(raw);
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === 'string' ? raw.trim() : raw;
  if (text === '') return undefined;
  if (kind === 'number') {
    const n = Number(text);
    if (!Number.isFinite(n)) return text; // the server names it
    const type = Array.isArray(prop.type) ? prop.type : [prop.type];
    return type.indexOf('integer') >= 0 && !Number.isInteger(n) ? text : n;
  }
  return text;
}

/** The form to send: the schema's fields only, empty ones left out, values coerced. */
function cleanForm(schema, form) {
  const props = (schema && schema.properties) || {};
  const out = {};
  Object.keys(form || {}).forEach((name) => {
    if (!props[name]) return;
    const value = coerce(props[name], form[name]);
    if (value !== undefined) out[name] = value;
  });
  return out;
}

/**
 * Split a described error's fields (describeError(...).fields) into the form's (`form.<name>`),
 * the materials' (`materials.<code>`) and the rest (shown above the form).
 */
function splitFieldErrors(fields) {
  const form = {};
  const materials = {};
  const other = [];
  (fields || []).forEach((f) => {
    const name = String(f.field || '');
    if (name.indexOf('form.') === 0) form[name.slice(5).split('.')[0]] = f.message;
    else if (name.indexOf('materials.') === 0) materials[name.slice(10)] = f.message;
    else other.push(f);
  });
  return { form, materials, other };
}

module.exports = { kindOf, requiredNames, buildFields, coerce, cleanForm, splitFieldErrors };
